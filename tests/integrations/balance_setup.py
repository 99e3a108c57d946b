"""Building blocks for the Balance protocol tests: a client with a payer, a contract and its account."""

from __future__ import annotations

import dataclasses
import datetime as dt

from billy.integrations.balance import port
from billy.integrations.balance.client import XmlRpcBalance

PAYER = port.PersonData(
    type=port.PersonType.LEGAL,
    name="ООО Ромашка",
    long_name="Общество с ограниченной ответственностью «Ромашка»",
    inn="7701234567",
    kpp="770101001",
    email="buh@romashka.ru",
    phone="+74951234567",
    legal_address="Москва, ул. Льва Толстого, 16",
)
START = dt.date(2026, 11, 1)


@dataclasses.dataclass(frozen=True)
class Opened:
    client_id: int
    person_id: int
    contract_id: int
    account: port.PersonalAccount


def new_client(balance: XmlRpcBalance, name: str = "ООО Ромашка") -> int:
    return balance.create_client(port.ClientData(name=name, email="info@romashka.ru", phone="+74951234567"))


def offer(client_id: int, person_id: int, payment_type: port.PaymentType, credit_limit: int | None) -> port.OfferData:
    postpay = payment_type == port.PaymentType.POSTPAY
    return port.OfferData(
        client_id=client_id,
        person_id=person_id,
        currency="RUB",
        payment_type=payment_type,
        start_date=START,
        credit_limit=credit_limit if postpay else None,
        payment_term_days=15 if postpay else None,
    )


def open_contract(
    balance: XmlRpcBalance,
    *,
    payment_type: port.PaymentType = port.PaymentType.PREPAY,
    credit_limit: int | None = None,
    service_id: int | None = None,
) -> Opened:
    client_id = new_client(balance)
    person_id = balance.create_person(client_id=client_id, data=PAYER)
    data = dataclasses.replace(offer(client_id, person_id, payment_type, credit_limit), service_id=service_id)
    contract = balance.create_offer(data)
    account = balance.get_personal_account(contract_id=contract.contract_id)
    return Opened(client_id, person_id, contract.contract_id, account)


def issue_invoice(balance: XmlRpcBalance, opened: Opened, amount: int) -> port.IssuedInvoice:
    request_id = balance.create_request(
        port.Request(client_id=opened.client_id, items=(port.RequestItem(opened.account.wallet_order_id, amount),))
    )
    return balance.create_invoice(
        port.InvoiceData(
            request_id=request_id,
            person_id=opened.person_id,
            contract_id=opened.contract_id,
            payment_method=port.PaymentMethod.BANK,
        )
    )
