# Bulk invitation in the background: "invite every contact not yet invited" only marks the contacts
# (when, by whom); the app's background loop then opens their accounts in small batches.
from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('ikz', '0006_outbox_mail_change')]

    initial = False

    operations = [
        ops.AddField(
            model_name='Contact',
            name='invitation_queued_at',
            field=fields.DatetimeField(null=True),
        ),
        ops.AddField(
            model_name='Contact',
            name='invitation_queued_by',
            field=fields.IntField(null=True),
        ),
    ]
