"""`field__any=[…]` → `field = ANY(%s)` with one array parameter (PostgreSQL).

`pk__in` with 500 ids sends 500 placeholders that the driver rewrites one by one; an array
is one parameter. Used by the escalation sweep's grouped UPDATEs."""

from django.db.models import Field, Lookup


@Field.register_lookup
class Any(Lookup):
    lookup_name = "any"
    prepare_rhs = False

    def get_db_prep_lookup(self, value, connection):
        return "%s", [list(value)]

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)
        return f"{lhs} = ANY({rhs})", [*lhs_params, *rhs_params]
