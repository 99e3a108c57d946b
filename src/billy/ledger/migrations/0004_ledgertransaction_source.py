# Every ledger transaction names what made it. Existing rows are filled from the rows that name them
# (charges, charge refunds, adjustments, subscription payments and refunds) before the check applies.

from django.db import migrations, models

FILL_SOURCES = """
UPDATE ledger_transaction t SET source = jsonb_build_object('charge_id', c.charge_id)
  FROM charge c WHERE c.transaction_id = t.id;
UPDATE ledger_transaction t SET source = jsonb_build_object('charge_id', c.charge_id, 'refund_id', r.refund_id)
  FROM refund r JOIN charge c ON c.id = r.charge_id WHERE r.transaction_id = t.id;
UPDATE ledger_transaction t SET source = jsonb_build_object('adjustment_id', a.adjustment_id)
  FROM ledger_adjustment a WHERE a.transaction_id = t.id;
UPDATE ledger_transaction t
   SET source = jsonb_build_object('subscription_id', p.subscription_id::text, 'payment_id', p.id::text)
  FROM subscription_payment p WHERE p.transaction_id = t.id;
UPDATE ledger_transaction t
   SET source = jsonb_build_object('subscription_id', r.subscription_id::text, 'payment_id', r.payment_id::text,
                                   'refund_id', r.id::text)
  FROM subscription_refund r WHERE r.transaction_id = t.id;
"""


class Migration(migrations.Migration):

    dependencies = [
        ('ledger', '0003_alter_account_kind_alter_ledgertransaction_kind'),
        ('charges', '0002_initial'),
        ('subscriptions', '0003_rate_limit_cache'),
    ]

    operations = [
        migrations.AddField(
            model_name='ledgertransaction',
            name='source',
            field=models.JSONField(default=dict, help_text='What made it, e.g. {"charge_id": "order-42"} (see _SOURCE_KEYS).'),
            preserve_default=False,
        ),
        migrations.RunSQL(FILL_SOURCES, migrations.RunSQL.noop),
        migrations.AddConstraint(
            model_name='ledgertransaction',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('kind', 'CHARGE'), ('source__has_keys', ['charge_id'])), models.Q(('kind', 'REFUND'), ('source__has_keys', ['charge_id', 'refund_id'])), models.Q(('kind', 'ADJUSTMENT'), ('source__has_keys', ['adjustment_id'])), models.Q(('kind', 'CARD_PAYMENT'), ('source__has_keys', ['subscription_id', 'payment_id'])), models.Q(('kind', 'CARD_REFUND'), ('source__has_keys', ['subscription_id', 'payment_id', 'refund_id'])), _connector='OR'), name='transaction_names_its_source'),
        ),
    ]
