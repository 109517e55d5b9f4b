"""``{% live %}…{% endlive %}``: a part of a page rendered for each request (core/skeleton.py)."""

from __future__ import annotations

from django import template
from django.template.base import Parser, Token

from grille.core.skeleton import render_live

register = template.Library()


class LiveNode(template.Node):
    def __init__(self, nodelist: template.NodeList) -> None:
        self.nodelist = nodelist

    def render(self, context: template.Context) -> str:
        return render_live(self.nodelist, context)


@register.tag("live")
def live(parser: Parser, token: Token) -> LiveNode:
    """What differs from one request to the next on a page kept as a skeleton: the person's
    values, the CSRF token, the messages. Outside the page's skeleton, it renders its content."""
    if len(token.split_contents()) != 1:
        raise template.TemplateSyntaxError("{% live %} takes no argument")
    nodelist = parser.parse(("endlive",))
    parser.delete_first_token()
    return LiveNode(nodelist)
