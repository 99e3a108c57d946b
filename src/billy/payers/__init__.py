"""Payers (Balance's плательщики): the legal entity or individual a client's contracts and invoices
are made out to, with their Russian requisites (INN, KPP, BIK, settlement account).

`requisites` checks those fields by the FNS and Central Bank rules, with no database and no network,
so every transport refuses a mistyped INN or account with the same messages before Balance sees it.
"""
