# The login_throttle table becomes the generic `throttle` table: counts and waits in epoch
# milliseconds, computed by one atomic upsert. Its rows are transient (waits of at most a day),
# so the old table is dropped rather than converted.
from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('ikz', '0003_accounts_mail_approvals_audit')]

    initial = False

    operations = [
        ops.DeleteModel(name='LoginThrottle'),
        ops.CreateModel(
            name='LoginThrottle',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('key', fields.CharField(unique=True, max_length=100)),
                ('count', fields.IntField(default=0)),
                ('refused', fields.IntField(default=0)),
                ('window_started_ms', fields.BigIntField()),
                ('last_ms', fields.BigIntField()),
                ('blocked_until_ms', fields.BigIntField(null=True)),
            ],
            options={'table': 'throttle', 'app': 'ikz', 'pk_attr': 'id', 'table_description': 'One throttle counter per key (see service.accounts.throttle): failed or pending sign-ins per'},
            bases=['Model'],
        ),
    ]
