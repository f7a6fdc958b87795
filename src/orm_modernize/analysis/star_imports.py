"""What `from <module> import *` binds, for the SQLAlchemy modules code
imports that way: the public names of SQLAlchemy 1.4.54 (what users migrate from), read
once from it and kept here as data, since the tool never imports SQLAlchemy.
Regenerate with `scripts/star_names.py` under SQLAlchemy 1.4."""

from __future__ import annotations

_SQLALCHEMY = """
    ARRAY BIGINT BINARY BLANK_SCHEMA BLOB BOOLEAN BigInteger Boolean CHAR CLOB
    CheckConstraint Column ColumnDefault Computed Constraint DATE DATETIME DDL
    DECIMAL Date DateTime DefaultClause Enum FLOAT FetchedValue Float ForeignKey
    ForeignKeyConstraint INT INTEGER Identity Index Integer Interval JSON
    LABEL_STYLE_DEFAULT LABEL_STYLE_DISAMBIGUATE_ONLY LABEL_STYLE_NONE
    LABEL_STYLE_TABLENAME_PLUS_COL LargeBinary MetaData NCHAR NUMERIC NVARCHAR
    Numeric PickleType PrimaryKeyConstraint REAL SMALLINT Sequence SmallInteger
    String TEXT TIME TIMESTAMP Table Text ThreadLocalMetaData Time TupleType
    TypeDecorator Unicode UnicodeText UniqueConstraint VARBINARY VARCHAR alias all_
    and_ any_ asc between bindparam case cast collate column create_engine
    create_mock_engine delete desc distinct engine_from_config except_ except_all
    exists extract false func funcfilter insert inspect intersect intersect_all join
    lambda_stmt lateral literal literal_column modifier not_ null nulls_first
    nulls_last nullsfirst nullslast or_ outerjoin outparam over select subquery
    table tablesample text true tuple_ type_coerce union union_all update values
    within_group
"""

_SQLALCHEMY_ORM = """
    AliasOption AppenderQuery AttributeEvent AttributeEvents AttributeState Bundle
    CascadeOptions ClassManager ColumnProperty CompositeProperty DeclarativeMeta
    EXT_CONTINUE EXT_SKIP EXT_STOP FromStatement IdentityMap InspectionAttr
    InspectionAttrInfo InstanceEvents InstanceState InstrumentationEvents
    InstrumentedAttribute Load LoaderCriteriaOption MANYTOMANY MANYTOONE Mapped
    Mapper MapperEvents MapperProperty NOT_EXTENSION ONETOMANY ORMExecuteState
    PropComparator Query QueryContext QueryEvents QueryableAttribute
    RelationshipProperty Session SessionEvents SessionTransaction SynonymProperty
    UOWTransaction UserDefinedOption aliased as_declarative backref class_mapper
    clear_mappers close_all_sessions column_property composite configure_mappers
    contains_alias contains_eager create_session declarative_base declarative_mixin
    declared_attr defaultload defer deferred dynamic_loader eagerload foreign
    has_inherited_table immediateload join joinedload lazyload load_only
    make_transient make_transient_to_detached mapper merge_frozen_result
    merge_result noload object_mapper object_session outerjoin polymorphic_union
    public_factory query_expression raiseload reconstructor registry relation
    relationship remote scoped_session selectin_polymorphic selectinload
    sessionmaker subqueryload synonym synonym_for undefer undefer_group validates
    was_deleted with_expression with_loader_criteria with_parent with_polymorphic
"""

_SQLALCHEMY_SQL = """
    Alias COLLECT_CARTESIAN_PRODUCTS ClauseElement ClauseVisitor ColumnCollection
    ColumnElement CompoundSelect Delete Executable FROM_LINTING False_ FromClause
    Insert Join LABEL_STYLE_DEFAULT LABEL_STYLE_DISAMBIGUATE_ONLY LABEL_STYLE_NONE
    LABEL_STYLE_TABLENAME_PLUS_COL LambdaElement NO_LINTING Select Selectable
    StatementLambdaElement Subquery TableClause TableSample True_ Update Values
    WARN_LINTING alias all_ and_ any_ asc between bindparam case cast collate column
    cte delete desc distinct except_ except_all exists extract false func funcfilter
    insert intersect intersect_all join label lambda_stmt lateral literal
    literal_column modifier not_ null nulls_first nulls_last nullsfirst nullslast
    or_ outerjoin outparam over quoted_name select subquery table tablesample text
    true tuple_ type_coerce union union_all update values within_group
"""

_SQLALCHEMY_SQL_EXPRESSION = """
    Alias AliasedReturnsRows CacheKey ClauseElement ColumnCollection ColumnElement
    CompoundSelect Delete FromClause Insert Join LambdaElement Lateral Select
    Selectable StatementLambdaElement Subquery TableClause TableSample
    TableValuedAlias Update Values alias all_ and_ any_ asc between bindparam case
    cast collate column cte custom_op delete desc distinct except_ except_all exists
    extract func insert intersect intersect_all join label lambda_stmt lateral
    literal literal_column modifier not_ null nulls_first nulls_last or_ outerjoin
    outparam over quoted_name select table tablesample text tuple_ type_coerce union
    union_all update values within_group
"""

_SQLALCHEMY_SCHEMA = """
    AddConstraint BLANK_SCHEMA CheckConstraint Column ColumnCollectionConstraint
    ColumnCollectionMixin ColumnDefault Computed Constraint CreateColumn CreateIndex
    CreateSchema CreateSequence CreateTable DDL DDLBase DDLElement DefaultClause
    DefaultGenerator DropColumnComment DropConstraint DropIndex DropSchema
    DropSequence DropTable DropTableComment FetchedValue ForeignKey
    ForeignKeyConstraint Identity Index MetaData PrimaryKeyConstraint SchemaItem
    SchemaVisitor Sequence SetColumnComment SetTableComment Table
    ThreadLocalMetaData UniqueConstraint conv sort_tables
    sort_tables_and_constraints
"""

_SQLALCHEMY_TYPES = """
    ARRAY BIGINT BINARY BLOB BOOLEAN BigInteger Boolean CHAR CLOB Concatenable DATE
    DATETIME DECIMAL Date DateTime Enum ExternalType FLOAT Float INT INTEGER
    Indexable Integer Interval JSON LargeBinary NCHAR NUMERIC NVARCHAR Numeric
    PickleType REAL SMALLINT SmallInteger String TEXT TIME TIMESTAMP Text Time
    TupleType TypeDecorator TypeEngine Unicode UnicodeText UserDefinedType VARBINARY
    VARCHAR
"""

_SQLALCHEMY_ENGINE = """
    AdaptedConnection BaseCursorResult BaseRow BufferedColumnResultProxy
    BufferedColumnRow BufferedRowResultProxy ChunkedIteratorResult Compiled
    Connectable Connection CreateEnginePlugin CursorResult Dialect Engine
    ExceptionContext ExecutionContext FilterResult FrozenResult
    FullyBufferedResultProxy Inspector IteratorResult LegacyCursorResult LegacyRow
    MappingResult MergedResult NestedTransaction Result ResultProxy RootTransaction
    Row RowMapping ScalarResult Transaction TwoPhaseTransaction TypeCompiler URL
    base characteristics connection_memoize create create_engine create_mock_engine
    cursor ddl default engine_from_config events interfaces make_url mock reflection
    result result_tuple row url util
"""

_SQLALCHEMY_EXT_DECLARATIVE = """
    AbstractConcreteBase ConcreteBase DeclarativeMeta DeferredReflection
    as_declarative declarative_base declared_attr has_inherited_table
    instrument_declarative synonym_for
"""

STAR_NAMES: dict[str, frozenset[str]] = {
    "sqlalchemy": frozenset(_SQLALCHEMY.split()),
    "sqlalchemy.orm": frozenset(_SQLALCHEMY_ORM.split()),
    "sqlalchemy.sql": frozenset(_SQLALCHEMY_SQL.split()),
    "sqlalchemy.sql.expression": frozenset(_SQLALCHEMY_SQL_EXPRESSION.split()),
    "sqlalchemy.schema": frozenset(_SQLALCHEMY_SCHEMA.split()),
    "sqlalchemy.types": frozenset(_SQLALCHEMY_TYPES.split()),
    "sqlalchemy.engine": frozenset(_SQLALCHEMY_ENGINE.split()),
    "sqlalchemy.ext.declarative": frozenset(_SQLALCHEMY_EXT_DECLARATIVE.split()),
}
