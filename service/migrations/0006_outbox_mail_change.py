# Approver notifications name the change they are about, so deleting a person drops the undelivered
# ones that quote their data.
from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.fields.base import OnDelete
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('ikz', '0005_partner_left_year')]

    initial = False

    operations = [
        ops.AddField(
            model_name='OutboxMail',
            name='change',
            field=fields.ForeignKeyField('ikz.ChangeRequest', source_field='change_id', null=True, db_index=True, db_constraint=True, to_field='id', related_name='mails', on_delete=OnDelete.SET_NULL),
        ),
        # AddField does not create the index that db_index asks for (CreateModel does); both databases
        # speak this statement alike.
        ops.RunSQL("CREATE INDEX idx_outbox_mail_change_id ON outbox_mail (change_id)",
                   "DROP INDEX idx_outbox_mail_change_id"),
    ]
