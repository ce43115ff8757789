"""Database triggers for rules a CHECK constraint cannot express (they span two rows).

Installed by a migration and re-ensured after every ``migrate`` (SQLite drops a table's
triggers when a later migration rebuilds the table).
"""

NEXT_TIER = "CASE {row}.tier WHEN 'district' THEN 'city' WHEN 'city' THEN 'leader' END"

POSTGRESQL = [
    f"""
CREATE OR REPLACE FUNCTION enterprises_department_check_escalation() RETURNS trigger AS $$
DECLARE target_tier text;
BEGIN
    IF NEW.escalates_to_id IS NOT NULL THEN
        SELECT tier INTO target_tier FROM enterprises_department WHERE id = NEW.escalates_to_id;
        IF target_tier IS DISTINCT FROM ({NEXT_TIER.format(row="NEW")}) THEN
            RAISE EXCEPTION
                'department % (tier %) must escalate to a department one tier up, not to tier %',
                NEW.code, NEW.tier, target_tier USING ERRCODE = 'check_violation';
        END IF;
    END IF;
    IF TG_OP = 'UPDATE' AND NEW.tier IS DISTINCT FROM OLD.tier AND EXISTS (
        SELECT 1 FROM enterprises_department d
        WHERE d.escalates_to_id = NEW.id AND ({NEXT_TIER.format(row="d")}) IS DISTINCT FROM NEW.tier
    ) THEN
        RAISE EXCEPTION 'department % cannot change tier: departments below escalate to it',
            NEW.code USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END
$$ LANGUAGE plpgsql
""",
    "DROP TRIGGER IF EXISTS enterprises_department_escalation ON enterprises_department",
    """
CREATE TRIGGER enterprises_department_escalation
BEFORE INSERT OR UPDATE OF tier, escalates_to_id ON enterprises_department
FOR EACH ROW EXECUTE FUNCTION enterprises_department_check_escalation()
""",
]

_SQLITE_TARGET_WRONG = (
    "NEW.escalates_to_id IS NOT NULL AND "
    "(SELECT tier FROM enterprises_department WHERE id = NEW.escalates_to_id) "
    f"IS NOT ({NEXT_TIER.format(row='NEW')})"
)
SQLITE = [
    f"""
CREATE TRIGGER IF NOT EXISTS enterprises_department_escalation_insert
BEFORE INSERT ON enterprises_department
WHEN {_SQLITE_TARGET_WRONG}
BEGIN SELECT RAISE(ABORT, 'department must escalate to a department one tier up'); END
""",
    # One trigger per rule on UPDATE, so each refusal says which rule it broke (as on
    # PostgreSQL). The single trigger of the first release is dropped.
    "DROP TRIGGER IF EXISTS enterprises_department_escalation_update",
    f"""
CREATE TRIGGER IF NOT EXISTS enterprises_department_escalation_update_target
BEFORE UPDATE OF tier, escalates_to_id ON enterprises_department
WHEN {_SQLITE_TARGET_WRONG}
BEGIN SELECT RAISE(ABORT, 'department must escalate to a department one tier up'); END
""",
    f"""
CREATE TRIGGER IF NOT EXISTS enterprises_department_escalation_update_tier
BEFORE UPDATE OF tier ON enterprises_department
WHEN NEW.tier IS NOT OLD.tier AND EXISTS (
    SELECT 1 FROM enterprises_department d
    WHERE d.escalates_to_id = NEW.id AND ({NEXT_TIER.format(row="d")}) IS NOT NEW.tier)
BEGIN SELECT RAISE(ABORT, 'department cannot change tier: departments below escalate to it'); END
""",
]


def install(connection) -> None:
    # Vendor branch 2 of 3 in app code: trigger syntax is not portable (PL/pgSQL vs SQLite's
    # RAISE(ABORT)), and Django has no API for triggers.
    statements = {"postgresql": POSTGRESQL, "sqlite": SQLITE}.get(connection.vendor)
    if statements is None:
        raise NotImplementedError(f"no escalation trigger for database {connection.vendor}")
    with connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)
