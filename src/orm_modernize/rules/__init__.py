"""Every rule, sorted by code.

Code ranges: ORM0xx `Query` API · ORM1xx Session and transactions · ORM2xx
Engine/Connection execution · ORM3xx Core constructs · ORM4xx declarative mapping
and relationships.
"""

from __future__ import annotations

from orm_modernize.rule import Rule
from orm_modernize.rules.backref_cascade import BackrefCascade
from orm_modernize.rules.bound_metadata import BoundMetadata
from orm_modernize.rules.case_when_list import CaseWhenList
from orm_modernize.rules.classical_mapper import ClassicalMapper
from orm_modernize.rules.compound_select_arguments import CompoundSelectArguments
from orm_modernize.rules.connection_autocommit import ConnectionAutocommit
from orm_modernize.rules.connectionless_execution import ConnectionlessExecution
from orm_modernize.rules.create_engine_arguments import CreateEngineArguments
from orm_modernize.rules.declarative_base_function import DeclarativeBaseFunction
from orm_modernize.rules.dml_keyword_arguments import DmlKeywordArguments
from orm_modernize.rules.dynamic_relationship import DynamicRelationship
from orm_modernize.rules.engine_inspection import EngineInspection
from orm_modernize.rules.execute_parameter_arguments import ExecuteParameterArguments
from orm_modernize.rules.execute_string_sql import ExecuteStringSql
from orm_modernize.rules.ext_declarative_import import ExtDeclarativeImport
from orm_modernize.rules.future_flag import FutureFlag
from orm_modernize.rules.implicit_execution import ImplicitExecution
from orm_modernize.rules.implicit_subquery import ImplicitSubquery
from orm_modernize.rules.lazy_boolean import LazyBoolean
from orm_modernize.rules.legacy_query import LegacyQuery
from orm_modernize.rules.legacy_query_get import LegacyQueryGet
from orm_modernize.rules.legacy_select_methods import LegacySelectMethods
from orm_modernize.rules.legacy_session_transactions import (
    LegacySessionTransactions,
)
from orm_modernize.rules.query_update_delete import QueryUpdateDelete
from orm_modernize.rules.relationship_backref import RelationshipBackref
from orm_modernize.rules.relationship_outside_class import RelationshipOutsideClass
from orm_modernize.rules.removed_orm_alias import RemovedOrmAlias
from orm_modernize.rules.removed_query_api import RemovedQueryApi
from orm_modernize.rules.row_mapping_access import RowMappingAccess
from orm_modernize.rules.select_column_list import SelectColumnList
from orm_modernize.rules.select_mutators import SelectMutators
from orm_modernize.rules.untyped_mapped_attribute import UntypedMappedAttribute

ALL_RULES: tuple[type[Rule], ...] = (
    LegacyQueryGet,
    LegacyQuery,
    RemovedQueryApi,
    QueryUpdateDelete,
    LegacySessionTransactions,
    BackrefCascade,
    ExecuteStringSql,
    ConnectionlessExecution,
    ExecuteParameterArguments,
    RowMappingAccess,
    ImplicitExecution,
    BoundMetadata,
    EngineInspection,
    ConnectionAutocommit,
    CreateEngineArguments,
    FutureFlag,
    SelectColumnList,
    CaseWhenList,
    DmlKeywordArguments,
    LegacySelectMethods,
    ImplicitSubquery,
    CompoundSelectArguments,
    SelectMutators,
    ExtDeclarativeImport,
    DeclarativeBaseFunction,
    RelationshipOutsideClass,
    RemovedOrmAlias,
    LazyBoolean,
    RelationshipBackref,
    UntypedMappedAttribute,
    ClassicalMapper,
    DynamicRelationship,
)
RULES_BY_CODE: dict[str, type[Rule]] = {rule.code: rule for rule in ALL_RULES}
