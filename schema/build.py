"""Assembling the Strawberry schema with its security extensions."""

from __future__ import annotations

import strawberry
from graphql import GraphQLError
from strawberry.extensions import (
    AddValidationRules,
    MaskErrors,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    ParserCache,
    QueryDepthLimiter,
    ValidationCache,
)
from strawberry.schema.config import StrawberryConfig

from service.config import Settings
from schema.accounts.mutations import AccountMutation, AccountQuery
from schema.admin.operations import AdminMutation, AdminQuery
from schema.approvals.operations import ApprovalMutation, ApprovalQuery
from schema.catalogue.queries import CatalogueQuery
from schema.catalogue.statistics import StatisticsQuery
from schema.catalogue.types import ExternalOrganization, Municipality
from schema.documents.operations import DocumentMutation, DocumentQuery
from schema.cost import FragmentExpansionLimit, QueryCostLimit
from schema.inputs import StrictVariables, StringLiteralRule
from schema.execution import PlainFieldExecutionContext
from schema.response_cache import DataVersionRead
from schema.errors import MASKED_MESSAGE, is_unexpected, log_unexpected


@strawberry.type
class Query(CatalogueQuery, StatisticsQuery, AccountQuery, ApprovalQuery, AdminQuery, DocumentQuery):
    pass


@strawberry.type
class Mutation(AccountMutation, ApprovalMutation, AdminMutation, DocumentMutation):
    pass


class IkzSchema(strawberry.Schema):
    def process_errors(self, errors: list[GraphQLError], execution_context=None) -> None:
        # Client mistakes are answered, not logged; only real faults reach the log.
        log_unexpected(errors)


def security_extensions(settings: Settings) -> list:
    """Depth, alias, token and cost limits, parser/validation caches; error masking in production."""
    # The limiters' rule classes are made once: the validation cache is keyed by the rule classes,
    # and a fresh class per request would make every request miss it (measured: 2 ms per request).
    rules = (
        QueryDepthLimiter(max_depth=settings.max_query_depth).validation_rules
        + MaxAliasesLimiter(max_alias_count=settings.max_aliases).validation_rules
        + [StringLiteralRule]
    )
    extensions = [
        lambda: AddValidationRules(rules),
        lambda: MaxTokensLimiter(max_token_count=settings.max_tokens),
        lambda: ParserCache(maxsize=512),
        FragmentExpansionLimit,  # before any validation rule walks the fragments
        lambda: ValidationCache(maxsize=512),
        # After the validation cache: these depend on the variables (first: $n).
        StrictVariables,
        lambda: QueryCostLimit(settings.max_query_cost),
    ]
    if settings.is_production:
        extensions.append(lambda: MaskErrors(should_mask_error=is_unexpected, error_message=MASKED_MESSAGE))
    return extensions


def build_schema(settings: Settings | None = None) -> strawberry.Schema:
    settings = settings or Settings()
    extensions = [*security_extensions(settings), DataVersionRead]  # after the limits (schema/response_cache.py)
    return IkzSchema(
        query=Query,
        mutation=Mutation,
        types=[Municipality, ExternalOrganization],
        extensions=extensions,
        execution_context_class=PlainFieldExecutionContext,
        config=StrawberryConfig(auto_camel_case=True),
    )


# For `strawberry export-schema schema.build:default_schema` (make schema).
default_schema = build_schema()
