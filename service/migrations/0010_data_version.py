# The data version of what anonymous readers see (service/publication.py): one row, moved in the
# transaction of every published change; caches and ETags are keyed by it.
from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('ikz', '0009_organization_location')]

    initial = False

    operations = [
        ops.CreateModel(
            name='DataVersion',
            fields=[
                ('id', fields.IntField(primary_key=True, unique=True, db_index=True)),
                ('version', fields.BigIntField(default=1)),
            ],
            options={'table': 'data_version', 'app': 'ikz', 'pk_attr': 'id', 'table_description': 'The version of the published data, one row (service/publication.py)'},
            bases=['Model'],
        ),
        ops.RunSQL("INSERT INTO data_version (id, version) VALUES (1, 1)", "DELETE FROM data_version"),
    ]
