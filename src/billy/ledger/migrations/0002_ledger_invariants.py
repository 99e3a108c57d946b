"""Invariants the database itself enforces, whatever code (or raw SQL) writes the ledger:

- every ledger transaction's entries sum to zero per currency, checked at commit;
- a posted entry is never updated or deleted;
- an entry's currency is its account's currency.
"""

from django.db import migrations

FORWARD = """
CREATE FUNCTION ledger_transaction_balanced() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    unbalanced record;
BEGIN
    SELECT currency, sum(amount) AS total INTO unbalanced
      FROM ledger_entry
     WHERE transaction_id = NEW.transaction_id
     GROUP BY currency
    HAVING sum(amount) <> 0
     LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'ledger transaction % does not sum to zero: % %',
            NEW.transaction_id, unbalanced.total, unbalanced.currency
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NULL;
END $$;

CREATE CONSTRAINT TRIGGER ledger_entry_balanced
    AFTER INSERT ON ledger_entry
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION ledger_transaction_balanced();

CREATE FUNCTION ledger_entry_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'ledger entries are append-only: % of entry % refused', TG_OP, OLD.id
        USING ERRCODE = 'restrict_violation';
END $$;

CREATE TRIGGER ledger_entry_append_only
    BEFORE UPDATE OR DELETE ON ledger_entry
    FOR EACH ROW EXECUTE FUNCTION ledger_entry_append_only();

ALTER TABLE ledger_entry
    ADD CONSTRAINT ledger_entry_account_currency
    FOREIGN KEY (account_id, currency) REFERENCES ledger_account (id, currency);
"""

BACKWARD = """
ALTER TABLE ledger_entry DROP CONSTRAINT ledger_entry_account_currency;
DROP TRIGGER ledger_entry_append_only ON ledger_entry;
DROP FUNCTION ledger_entry_append_only();
DROP TRIGGER ledger_entry_balanced ON ledger_entry;
DROP FUNCTION ledger_transaction_balanced();
"""


class Migration(migrations.Migration):
    dependencies = [("ledger", "0001_initial")]

    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
