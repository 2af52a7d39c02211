from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from json import dumps, loads
from service.accounts.models import Role, TokenPurpose
from service.approvals.models import ChangeKind, ChangeStatus
from service.mail.models import MailStatus
from tortoise.fields.base import OnDelete
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('ikz', '0002_search_indexes')]

    initial = False

    operations = [
        ops.CreateModel(
            name='Account',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('username', fields.CharField(unique=True, max_length=64)),
                ('email', fields.CharField(null=True, max_length=254)),
                ('first_name', fields.CharField(null=True, max_length=100)),
                ('last_name', fields.CharField(null=True, max_length=100)),
                ('contact', fields.OneToOneField('ikz.Contact', source_field='contact_id', null=True, db_index=True, db_constraint=True, to_field='id', related_name='account', on_delete=OnDelete.RESTRICT)),
                ('password_hash', fields.CharField(null=True, max_length=255)),
                ('password_set_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('initial_password_hmac', fields.CharField(null=True, max_length=64)),
                ('initial_password_expires_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('invited_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('is_active', fields.BooleanField(default=True)),
                ('deleted_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('last_login_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'account', 'app': 'ikz', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='AccountRole',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('account', fields.ForeignKeyField('ikz.Account', source_field='account_id', db_index=True, db_constraint=True, to_field='id', related_name='roles', on_delete=OnDelete.CASCADE)),
                ('role', fields.CharEnumField(description='ADMIN: ADMIN\nAPPROVER: APPROVER\nCONTACT: CONTACT', enum_type=Role, max_length=20)),
                ('scope', fields.ForeignKeyField('ikz.Organization', source_field='scope_id', null=True, db_index=True, db_constraint=True, to_field='id', related_name='approver_roles', on_delete=OnDelete.RESTRICT)),
            ],
            options={'table': 'account_role', 'app': 'ikz', 'unique_together': (('account', 'role', 'scope'),), 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='AuditEntry',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('created_at', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=False)),
                ('actor', fields.ForeignKeyField('ikz.Account', source_field='actor_id', null=True, db_index=True, db_constraint=True, to_field='id', related_name='audit_entries', on_delete=OnDelete.SET_NULL)),
                ('actor_role', fields.CharField(null=True, max_length=20)),
                ('action', fields.CharField(db_index=True, max_length=40)),
                ('subject_type', fields.CharField(null=True, max_length=40)),
                ('subject_id', fields.IntField(null=True)),
                ('details', fields.JSONField(null=True, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
            ],
            options={'table': 'audit_entry', 'app': 'ikz', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='ChangeRequest',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('kind', fields.CharEnumField(description='COOPERATION_CREATE: COOPERATION_CREATE\nCOOPERATION_UPDATE: COOPERATION_UPDATE\nCONTACT_UPDATE: CONTACT_UPDATE\nCONTACT_CONFIRMATION: CONTACT_CONFIRMATION', enum_type=ChangeKind, max_length=30)),
                ('status', fields.CharEnumField(default=ChangeStatus.PENDING, db_index=True, description='PENDING: PENDING\nAPPROVED: APPROVED\nREJECTED: REJECTED\nCONFLICTING: CONFLICTING\nWITHDRAWN: WITHDRAWN', enum_type=ChangeStatus, max_length=20)),
                ('cooperation', fields.ForeignKeyField('ikz.Cooperation', source_field='cooperation_id', null=True, db_index=True, db_constraint=True, to_field='id', related_name='change_requests', on_delete=OnDelete.CASCADE)),
                ('contact', fields.ForeignKeyField('ikz.Contact', source_field='contact_id', null=True, db_index=True, db_constraint=True, to_field='id', related_name='change_requests', on_delete=OnDelete.CASCADE)),
                ('base_version', fields.IntField(null=True)),
                ('payload', fields.JSONField(encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('submitted_by', fields.ForeignKeyField('ikz.Account', source_field='submitted_by_id', db_index=True, db_constraint=True, to_field='id', related_name='submitted_changes', on_delete=OnDelete.RESTRICT)),
                ('submitted_at', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=False)),
                ('reviewed_by', fields.ForeignKeyField('ikz.Account', source_field='reviewed_by_id', null=True, db_index=True, db_constraint=True, to_field='id', related_name='reviewed_changes', on_delete=OnDelete.RESTRICT)),
                ('reviewed_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('review_note', fields.TextField(null=True, unique=False)),
                ('conflict_reason', fields.TextField(null=True, unique=False)),
            ],
            options={'table': 'change_request', 'app': 'ikz', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='LoginThrottle',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('key', fields.CharField(unique=True, max_length=100)),
                ('failures', fields.IntField(default=0)),
                ('last_failure_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('blocked_until', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'login_throttle', 'app': 'ikz', 'pk_attr': 'id', 'table_description': 'Failed logins per key ("user:<hmac of the typed name>" or "addr:<client address>").'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='OneTimeToken',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('account', fields.ForeignKeyField('ikz.Account', source_field='account_id', db_index=True, db_constraint=True, to_field='id', related_name='tokens', on_delete=OnDelete.CASCADE)),
                ('purpose', fields.CharEnumField(description='ACTIVATION: ACTIVATION\nPASSWORD_RESET: PASSWORD_RESET', enum_type=TokenPurpose, max_length=20)),
                ('token_hmac', fields.CharField(unique=True, max_length=64)),
                ('expires_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('used_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'one_time_token', 'app': 'ikz', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='OutboxMail',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('template', fields.CharField(max_length=64)),
                ('recipient', fields.CharField(max_length=254)),
                ('account', fields.ForeignKeyField('ikz.Account', source_field='account_id', null=True, db_index=True, db_constraint=True, to_field='id', related_name='mails', on_delete=OnDelete.SET_NULL)),
                ('message_id', fields.CharField(unique=True, max_length=255)),
                ('sealed_content', fields.TextField(null=True, unique=False)),
                ('status', fields.CharEnumField(default=MailStatus.PENDING, db_index=True, description='PENDING: PENDING\nSENDING: SENDING\nSENT: SENT\nFAILED: FAILED', enum_type=MailStatus, max_length=10)),
                ('attempts', fields.IntField(default=0)),
                ('next_attempt_at', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=False)),
                ('claimed_until', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('last_error', fields.CharField(null=True, max_length=500)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('sent_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'outbox_mail', 'app': 'ikz', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Session',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('account', fields.ForeignKeyField('ikz.Account', source_field='account_id', db_index=True, db_constraint=True, to_field='id', related_name='sessions', on_delete=OnDelete.CASCADE)),
                ('token_hmac', fields.CharField(unique=True, max_length=64)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('last_seen_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('expires_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('revoked_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('via_initial_password', fields.BooleanField(default=False)),
            ],
            options={'table': 'session', 'app': 'ikz', 'pk_attr': 'id'},
            bases=['Model'],
        ),
    ]
