"""Money in for operators: contracts, invoices, Balance's notifications and credit transfers shown
read-only with money as decimals; "Re-read from Balance" books a lost notification's money."""

from __future__ import annotations

from django.urls import reverse

from billy.ledger.models import Account
from billy.moneyin.models import BalanceNotification, CreditTransfer, Invoice
from billy.payers.models import Contract, Payer
from tests.moneyin.conftest import pay_on_page


def change(obj) -> str:
    return reverse(f"admin:{obj._meta.app_label}_{obj._meta.model_name}_change", args=[obj.pk])


def changelist(model) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")


def test_pages_show_money_as_decimals_and_have_no_save_button(admin_client, prepay_client):
    issued = prepay_client.post("/clients/client-1/invoices", {"invoice_id": "inv-1", "amount": "1000.00"}).json()
    for model in (Payer, Contract, Invoice, BalanceNotification, CreditTransfer):
        assert admin_client.get(changelist(model)).status_code == 200, model
    for obj in (Payer.objects.get(), Contract.objects.get(), Invoice.objects.get()):
        html = admin_client.get(change(obj)).content.decode()
        assert 'name="_save"' not in html, obj
    assert "1000.00 RUB" in admin_client.get(change(Invoice.objects.get())).content.decode()
    assert issued["payment_url"] in admin_client.get(change(Invoice.objects.get())).content.decode()


def test_reread_from_balance_books_a_lost_notification(admin_client, prepay_client, balance_control):
    issued = prepay_client.post("/clients/client-1/invoices", {"invoice_id": "inv-1", "amount": "1000.00"}).json()
    pay_on_page(issued["payment_url"], "250.00")  # no notification URL: nothing tells billy
    assert prepay_client.wallet()["available"] == "0.00"

    answer = admin_client.post(
        changelist(Contract), {"action": "reread_from_balance", "_selected_action": [Contract.objects.get().pk]}
    )

    assert answer.status_code == 302
    assert prepay_client.wallet()["available"] == "250.00"
    assert Invoice.objects.get().status == "PARTIALLY_PAID"
    wallet = Account.objects.get(kind=Account.Kind.WALLET)
    assert "250.00 RUB" in admin_client.get(change(wallet)).content.decode()
