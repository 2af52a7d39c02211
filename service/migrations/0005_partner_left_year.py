# A partner that left a cooperation which goes on without it keeps its link, with the year it left;
# the invented demo contacts are marked, so that they are never invited.
from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('ikz', '0004_accounts_throttle')]

    initial = False

    operations = [
        ops.AddField(
            model_name='CooperationPartner',
            name='left_year',
            field=fields.IntField(null=True),
        ),
        ops.AddField(
            model_name='Contact',
            name='demo',
            field=fields.BooleanField(default=False),
        ),
    ]
