"""`{% money amount currency %}`: minor units shown as the admin shows money everywhere."""

from django import template

from billy.core.admin_display import money as _money

register = template.Library()


@register.simple_tag
def money(amount, currency) -> str:
    return _money(amount, currency)
