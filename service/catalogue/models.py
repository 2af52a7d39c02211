"""Catalogue tables: municipal bodies and other organisations, cooperations, contacts.

The cooperation table always holds the last approved state; proposals live in the
approvals tables until a ministry approver publishes them.
"""

from __future__ import annotations

from enum import Enum

from tortoise import fields
from tortoise.models import Model


class OrganizationKind(str, Enum):
    STATE = "STATE"
    DISTRICT = "DISTRICT"
    INDEPENDENT_CITY = "INDEPENDENT_CITY"
    MUNICIPALITY = "MUNICIPALITY"
    OTHER = "OTHER"  # a non-municipal partner: association, company, state agency


MUNICIPAL_KINDS = (
    OrganizationKind.STATE,
    OrganizationKind.DISTRICT,
    OrganizationKind.INDEPENDENT_CITY,
    OrganizationKind.MUNICIPALITY,
)
REGION_KINDS = (OrganizationKind.STATE, OrganizationKind.DISTRICT)


class PartnerRole(str, Enum):
    LEAD = "LEAD"
    PARTNER = "PARTNER"
    ASSOCIATED = "ASSOCIATED"


class PerformerKind(str, Enum):
    PARTNER = "PARTNER"  # one of the partners carries out the task
    THIRD_PARTY = "THIRD_PARTY"  # someone outside the partners
    JOINT = "JOINT"  # "Beteiligte": all partners jointly
    UNKNOWN = "UNKNOWN"


class CooperationStatus(str, Enum):
    PLANNED = "PLANNED"
    ACTIVE = "ACTIVE"
    ENDED = "ENDED"
    NOT_REALIZED = "NOT_REALIZED"


class LegalFormCategory(str, Enum):
    PUBLIC_LAW = "PUBLIC_LAW"
    PRIVATE_LAW = "PRIVATE_LAW"
    INFORMAL = "INFORMAL"


class ContactState(str, Enum):
    """Where a contact person stands in onboarding; only PUBLIC is ever shown."""

    CREATED = "CREATED"  # entered by the ministry, no mail yet
    INVITED = "INVITED"  # initial password and activation link mailed
    AWAITING_APPROVAL = "AWAITING_APPROVAL"  # confirmed with changes, waits for the ministry
    PUBLIC = "PUBLIC"  # confirmed with consent: visible in the public catalogue
    DELETED = "DELETED"  # erased by the person; the row only keeps the username reserved


class Organization(Model):
    id = fields.IntField(primary_key=True)
    key = fields.CharField(max_length=100, null=True, unique=True)
    name = fields.CharField(max_length=255)
    kind = fields.CharEnumField(OrganizationKind, max_length=20, db_index=True)
    ags = fields.CharField(max_length=8, null=True, unique=True)
    parent = fields.ForeignKeyField(
        "ikz.Organization", related_name="children", null=True, on_delete=fields.RESTRICT, db_index=True
    )
    sort_name = fields.CharField(max_length=255, db_index=True)
    search_text = fields.TextField()
    # The administrative seat (WGS84 degrees): Rathaus or town centre, a district's seat town, a
    # state's capital; from seeds/locations.json. None where unknown (most non-municipal partners).
    latitude = fields.FloatField(null=True)
    longitude = fields.FloatField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "organization"


class OrganizationAncestor(Model):
    """Closure table: one row per (organisation, ancestor) pair, including the organisation itself.

    A region filter (district or state) then becomes a single indexed join.
    """

    id = fields.IntField(primary_key=True)
    organization = fields.ForeignKeyField(
        "ikz.Organization", related_name="ancestor_links", on_delete=fields.CASCADE, db_index=True
    )
    ancestor = fields.ForeignKeyField(
        "ikz.Organization", related_name="descendant_links", on_delete=fields.CASCADE, db_index=True
    )
    depth = fields.IntField()

    class Meta:
        table = "organization_ancestor"
        unique_together = (("organization", "ancestor"),)


class TopicField(Model):
    id = fields.IntField(primary_key=True)
    key = fields.CharField(max_length=50, unique=True)
    label = fields.CharField(max_length=255)
    position = fields.IntField(default=0)

    class Meta:
        table = "topic_field"


class LegalForm(Model):
    code = fields.CharField(max_length=32, primary_key=True)
    label = fields.CharField(max_length=255)
    abbreviation = fields.CharField(max_length=32, null=True)
    category = fields.CharEnumField(LegalFormCategory, max_length=20)
    legal_basis = fields.CharField(max_length=255, null=True)
    position = fields.IntField(default=0)

    class Meta:
        table = "legal_form"


class Cooperation(Model):
    id = fields.IntField(primary_key=True)
    key = fields.CharField(max_length=100, null=True, unique=True)
    title = fields.TextField()
    description = fields.TextField(null=True)
    legal_form = fields.ForeignKeyField(
        "ikz.LegalForm", related_name="cooperations", null=True, on_delete=fields.RESTRICT, db_index=True
    )
    legal_form_text = fields.CharField(max_length=255, null=True)
    partners_text = fields.TextField(null=True)
    performer_kind = fields.CharEnumField(PerformerKind, max_length=20, default=PerformerKind.UNKNOWN)
    performer = fields.ForeignKeyField(
        "ikz.Organization", related_name="performed", null=True, on_delete=fields.RESTRICT, db_index=True
    )
    performer_text = fields.CharField(max_length=255, null=True)
    since_text = fields.CharField(max_length=255, null=True)
    start_year = fields.IntField(null=True, db_index=True)
    end_year = fields.IntField(null=True)
    status = fields.CharEnumField(CooperationStatus, max_length=20, default=CooperationStatus.ACTIVE, db_index=True)
    savings_amount = fields.DecimalField(max_digits=14, decimal_places=2, null=True)
    savings_currency = fields.CharField(max_length=3, null=True)
    savings_period = fields.CharField(max_length=10, null=True)
    savings_text = fields.CharField(max_length=255, null=True)
    funding = fields.TextField(null=True)
    notes = fields.TextField(null=True)
    source_document = fields.CharField(max_length=255, null=True)
    source_reference = fields.CharField(max_length=255, null=True)
    parent = fields.ForeignKeyField(
        "ikz.Cooperation", related_name="parts", null=True, on_delete=fields.SET_NULL, db_index=True
    )
    data_as_of = fields.DateField()
    last_approved_change_at = fields.DatetimeField(null=True)
    version = fields.IntField(default=1)
    sort_title = fields.CharField(max_length=255, db_index=True)
    search_text = fields.TextField()
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "cooperation"


class CooperationPartner(Model):
    id = fields.IntField(primary_key=True)
    cooperation = fields.ForeignKeyField(
        "ikz.Cooperation", related_name="partner_links", on_delete=fields.CASCADE, db_index=True
    )
    organization = fields.ForeignKeyField(
        "ikz.Organization", related_name="partner_links", on_delete=fields.RESTRICT, db_index=True
    )
    role = fields.CharEnumField(PartnerRole, max_length=20, default=PartnerRole.PARTNER)
    position = fields.IntField(default=0)
    # The year the partner left a cooperation that goes on without it ("Neufassung 2006 ohne Selm");
    # such a partner is shown with the year but is not an active partner in filters and facets.
    left_year = fields.IntField(null=True)

    class Meta:
        table = "cooperation_partner"
        unique_together = (("cooperation", "organization"),)


class CooperationTopicField(Model):
    id = fields.IntField(primary_key=True)
    cooperation = fields.ForeignKeyField(
        "ikz.Cooperation", related_name="topic_links", on_delete=fields.CASCADE, db_index=True
    )
    topic_field = fields.ForeignKeyField(
        "ikz.TopicField", related_name="cooperation_links", on_delete=fields.RESTRICT, db_index=True
    )

    class Meta:
        table = "cooperation_topic_field"
        unique_together = (("cooperation", "topic_field"),)


class Contact(Model):
    """A contact person (Ansprechpartner). Personal fields hold the approved state."""

    id = fields.IntField(primary_key=True)
    key = fields.CharField(max_length=100, null=True, unique=True)
    organization = fields.ForeignKeyField(
        "ikz.Organization", related_name="contacts", null=True, on_delete=fields.RESTRICT, db_index=True
    )
    state = fields.CharEnumField(ContactState, max_length=20, default=ContactState.CREATED, db_index=True)
    salutation = fields.CharField(max_length=20, null=True)
    title = fields.CharField(max_length=50, null=True)
    first_name = fields.CharField(max_length=100, null=True)
    last_name = fields.CharField(max_length=100, null=True)
    function = fields.CharField(max_length=255, null=True)
    email = fields.CharField(max_length=254, null=True)
    phone = fields.CharField(max_length=50, null=True)
    # An invented contact of the demo data (`ikz seed --demo`): never invited, never mailed.
    demo = fields.BooleanField(default=False)
    consent_at = fields.DatetimeField(null=True)
    confirmed_at = fields.DatetimeField(null=True)
    last_approved_change_at = fields.DatetimeField(null=True)
    # Queued for the bulk invitation (state CREATED): when and by which admin account; the mail
    # worker's loop (service.accounts.bulk_invitations) invites it and clears both.
    invitation_queued_at = fields.DatetimeField(null=True)
    invitation_queued_by = fields.IntField(null=True)
    version = fields.IntField(default=1)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "contact"


class ContactCooperation(Model):
    id = fields.IntField(primary_key=True)
    contact = fields.ForeignKeyField(
        "ikz.Contact", related_name="cooperation_links", on_delete=fields.CASCADE, db_index=True
    )
    cooperation = fields.ForeignKeyField(
        "ikz.Cooperation", related_name="contact_links", on_delete=fields.CASCADE, db_index=True
    )

    class Meta:
        table = "contact_cooperation"
        unique_together = (("contact", "cooperation"),)
