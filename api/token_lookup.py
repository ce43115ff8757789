"""The token lookup behind every API request, in one statement written once per process.

For a token key it loads the knox token, its user, the user's enterprise account and that
enterprise, and whether the user has any department membership — the same objects
`AuthToken.objects.filter(token_key=…).select_related("user__enterprise_account__enterprise")
.annotate(has_memberships=Exists(…))` gives, with the same caches filled (so nothing after it
queries again). The ORM spent ~1.8 ms of CPU per request building and compiling that
queryset, against ~0.2 ms for the query itself; here the SQL is composed once from the models'
metadata (every concrete column, so a new field is picked up) and each request only runs it,
as a prepared statement on PostgreSQL (weihai/prepared.py: planning it cost the server more
than running it). tests/api/test_token_lookup.py checks the objects equal the ORM's.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from django.contrib.auth import get_user_model
from django.db import connections
from knox.models import get_token_model

from enterprises.models import DepartmentMembership, Enterprise, EnterpriseAccount
from weihai import prepared


@dataclass(frozen=True)
class _Part:
    """One model's columns in the row: instances are built with Model.from_db."""

    model: type
    attnames: tuple[str, ...]
    start: int
    stop: int
    converters: tuple[tuple[int, tuple], ...]  # (offset, converters) for fields that have any

    def build(self, row, db: str):
        values = list(row[self.start : self.stop])
        if values[0] is None:  # primary key first: a LEFT JOIN that found nothing
            return None
        for offset, (field, converters) in self.converters:
            for converter in converters:
                values[offset] = converter(values[offset], field, connections[db])
        return self.model.from_db(db, self.attnames, values)


@cache
def _statement(alias: str) -> tuple[str, tuple[_Part, ...]]:
    connection = connections[alias]
    quote = connection.ops.quote_name
    parts: list[_Part] = []
    columns: list[str] = []
    tables = [
        ("tok", get_token_model()),
        ("usr", get_user_model()),
        ("acc", EnterpriseAccount),
        ("ent", Enterprise),
    ]
    for table_alias, model in tables:
        # The primary key first (build() reads it to tell a missing LEFT JOIN row).
        fields = sorted(model._meta.concrete_fields, key=lambda f: not f.primary_key)
        converters = []
        for offset, field in enumerate(fields):
            column = field.get_col(table_alias)
            found = connection.ops.get_db_converters(column) + field.get_db_converters(connection)
            if found:
                converters.append((offset, (column, tuple(found))))
        start = len(columns)
        columns += [f"{table_alias}.{quote(f.column)}" for f in fields]
        parts.append(
            _Part(model, tuple(f.attname for f in fields), start, len(columns), tuple(converters))
        )

    token_model, user_model = tables[0][1], tables[1][1]

    def table(model) -> str:
        return quote(model._meta.db_table)

    def column(model, name: str = "pk") -> str:
        field = model._meta.pk if name == "pk" else model._meta.get_field(name)
        return quote(field.column)

    sql = (
        f"SELECT {', '.join(columns)}, EXISTS (SELECT 1 FROM {table(DepartmentMembership)} mem "
        f"WHERE mem.{column(DepartmentMembership, 'user')} = tok.{column(token_model, 'user')})"
        f" FROM {table(token_model)} tok"
        f" INNER JOIN {table(user_model)} usr"
        f" ON usr.{column(user_model)} = tok.{column(token_model, 'user')}"
        f" LEFT OUTER JOIN {table(EnterpriseAccount)} acc"
        f" ON acc.{column(EnterpriseAccount, 'user')} = usr.{column(user_model)}"
        f" LEFT OUTER JOIN {table(Enterprise)} ent"
        f" ON ent.{column(Enterprise)} = acc.{column(EnterpriseAccount, 'enterprise')}"
        f" WHERE tok.{column(token_model, 'token_key')} = %s"
    )
    return sql, tuple(parts)


def tokens_for_key(token_key: str, alias: str = "default") -> list[tuple[object, bool]]:
    """(token, has_memberships) for every token with this key (knox keys are 15 characters of
    the token, so more than one is possible), each with token.user, user.enterprise_account
    and account.enterprise cached as select_related leaves them (a user without an account
    raises RelatedObjectDoesNotExist on access, without a query)."""
    sql, (token_part, user_part, account_part, enterprise_part) = _statement(alias)
    with connections[alias].cursor() as cursor:
        prepared.execute(cursor, sql, [token_key], alias)
        rows = cursor.fetchall()
    found = []
    user_model = user_part.model
    for row in rows:
        token = token_part.build(row, alias)
        user = user_part.build(row, alias)
        account = account_part.build(row, alias)
        type(token).user.field.set_cached_value(token, user)
        user_model.enterprise_account.related.set_cached_value(user, account)
        if account is not None:
            EnterpriseAccount.user.field.set_cached_value(account, user)
            enterprise = enterprise_part.build(row, alias)
            EnterpriseAccount.enterprise.field.set_cached_value(account, enterprise)
        found.append((token, bool(row[-1])))
    return found
