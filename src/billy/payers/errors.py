"""The refusals of payers and contracts."""

from billy.core.errors import BillyError


class PayerNotFound(BillyError):
    code = "payer_not_found"
    default_message = "The client has no payer with this payer_id."


class ContractNotFound(BillyError):
    code = "contract_not_found"
    default_message = "The client has no contract with this contract_id."


class ContractExists(BillyError):
    code = "contract_exists"
    default_message = "The client already has a contract in this currency."


class NoActiveContract(BillyError):
    code = "no_active_contract"
    default_message = "The client has no active contract: add a payer and a contract first."
