"""Every rule, sorted by code.

Code ranges: ORM0xx `Query` API · ORM1xx Session and transactions · ORM2xx
Engine/Connection execution · ORM3xx Core constructs · ORM4xx declarative mapping
and relationships.
"""

from __future__ import annotations

from orm_modernize.rules.base import Rule
from orm_modernize.rules.core.case_when_list import CaseWhenList
from orm_modernize.rules.core.compound_select_arguments import CompoundSelectArguments
from orm_modernize.rules.core.dml_keyword_arguments import DmlKeywordArguments
from orm_modernize.rules.core.implicit_subquery import ImplicitSubquery
from orm_modernize.rules.core.legacy_select_methods import LegacySelectMethods
from orm_modernize.rules.core.select_column_list import SelectColumnList
from orm_modernize.rules.core.select_mutators import SelectMutators
from orm_modernize.rules.execution.bound_metadata import BoundMetadata
from orm_modernize.rules.execution.connection_autocommit import ConnectionAutocommit
from orm_modernize.rules.execution.connectionless_execution import (
    ConnectionlessExecution,
)
from orm_modernize.rules.execution.create_engine_arguments import CreateEngineArguments
from orm_modernize.rules.execution.engine_inspection import EngineInspection
from orm_modernize.rules.execution.execute_parameter_arguments import (
    ExecuteParameterArguments,
)
from orm_modernize.rules.execution.execute_string_sql import ExecuteStringSql
from orm_modernize.rules.execution.future_flag import FutureFlag
from orm_modernize.rules.execution.implicit_execution import ImplicitExecution
from orm_modernize.rules.execution.row_mapping_access import RowMappingAccess
from orm_modernize.rules.meta.unused_noqa import UnusedNoqa
from orm_modernize.rules.models.classical_mapper import ClassicalMapper
from orm_modernize.rules.models.declarative_base_function import DeclarativeBaseFunction
from orm_modernize.rules.models.dynamic_relationship import DynamicRelationship
from orm_modernize.rules.models.ext_declarative_import import ExtDeclarativeImport
from orm_modernize.rules.models.inherited_column_order import InheritedColumnOrder
from orm_modernize.rules.models.lazy_boolean import LazyBoolean
from orm_modernize.rules.models.relationship_backref import RelationshipBackref
from orm_modernize.rules.models.relationship_outside_class import (
    RelationshipOutsideClass,
)
from orm_modernize.rules.models.removed_orm_alias import RemovedOrmAlias
from orm_modernize.rules.models.untyped_mapped_attribute import UntypedMappedAttribute
from orm_modernize.rules.query.legacy_query import LegacyQuery
from orm_modernize.rules.query.legacy_query_get import LegacyQueryGet
from orm_modernize.rules.query.query_property import QueryProperty
from orm_modernize.rules.query.query_update_delete import QueryUpdateDelete
from orm_modernize.rules.query.removed_query_api import RemovedQueryApi
from orm_modernize.rules.session.backref_cascade import BackrefCascade
from orm_modernize.rules.session.legacy_session_transactions import (
    LegacySessionTransactions,
)

ALL_RULES: tuple[type[Rule], ...] = (
    LegacyQueryGet,
    LegacyQuery,
    RemovedQueryApi,
    QueryUpdateDelete,
    QueryProperty,
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
    InheritedColumnOrder,
    UnusedNoqa,
)
RULES_BY_CODE: dict[str, type[Rule]] = {rule.code: rule for rule in ALL_RULES}
