# Places: the coordinates (WGS84) of each municipal body's administrative seat, for the partner map
# on a cooperation's profile and the GeoJSON export; nullable, as most other partners have none.
from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('ikz', '0008_documents')]

    initial = False

    operations = [
        ops.AddField(
            model_name='Organization',
            name='latitude',
            field=fields.FloatField(null=True),
        ),
        ops.AddField(
            model_name='Organization',
            name='longitude',
            field=fields.FloatField(null=True),
        ),
    ]
