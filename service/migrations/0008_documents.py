# Documents of cooperations (issue 11, part 1): metadata here, the bytes in the content-addressed storage.
from tortoise import migrations
from tortoise.migrations import operations as ops
from service.approvals.models import ChangeKind
from service.documents.models import DocumentKind, DocumentState
from tortoise.fields.base import OnDelete
from tortoise import fields


class DescriptionOnly(ops.AlterField):
    """A new ChangeKind value changes only the field's description (the column stays varchar(30)).
    Nothing to do in the database: on SQLite, altering would rebuild change_request without its indexes."""

    async def database_forward(self, *args, **kwargs) -> None:
        return None

    async def database_backward(self, *args, **kwargs) -> None:
        return None


class Migration(migrations.Migration):
    dependencies = [('ikz', '0007_contact_invitation_queue')]

    initial = False

    operations = [
        ops.CreateModel(
            name='Document',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('cooperation', fields.ForeignKeyField('ikz.Cooperation', source_field='cooperation_id', db_index=True, db_constraint=True, to_field='id', related_name='documents', on_delete=OnDelete.CASCADE)),
                ('title', fields.CharField(max_length=300)),
                ('kind', fields.CharEnumField(description='MODEL_CONTRACT: MODEL_CONTRACT\nSTATUTE: STATUTE\nCOUNCIL_RESOLUTION: COUNCIL_RESOLUTION\nOTHER: OTHER', enum_type=DocumentKind, max_length=30)),
                ('document_date', fields.DateField(null=True)),
                ('file_name', fields.CharField(max_length=255)),
                ('content_type', fields.CharField(max_length=100)),
                ('size', fields.BigIntField()),
                ('sha256', fields.CharField(db_index=True, max_length=64)),
                ('text', fields.TextField(null=True, unique=False)),
                ('search_words', fields.TextField(default='', unique=False)),
                ('state', fields.CharEnumField(db_index=True, description='PUBLISHED: PUBLISHED\nPROPOSED: PROPOSED\nREJECTED: REJECTED\nWITHDRAWN: WITHDRAWN', enum_type=DocumentState, max_length=20)),
                ('change', fields.ForeignKeyField('ikz.ChangeRequest', source_field='change_id', null=True, db_index=True, db_constraint=True, to_field='id', related_name='documents', on_delete=OnDelete.SET_NULL)),
                ('created_by_id', fields.IntField(null=True)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('published_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('withdrawn_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('withdrawn_by_id', fields.IntField(null=True)),
            ],
            options={'table': 'document', 'app': 'ikz', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        DescriptionOnly(
            model_name='ChangeRequest',
            name='kind',
            field=fields.CharEnumField(description='COOPERATION_CREATE: COOPERATION_CREATE\nCOOPERATION_UPDATE: COOPERATION_UPDATE\nCONTACT_UPDATE: CONTACT_UPDATE\nCONTACT_CONFIRMATION: CONTACT_CONFIRMATION\nDOCUMENT_ADD: DOCUMENT_ADD', enum_type=ChangeKind, max_length=30),
        ),
    ]
