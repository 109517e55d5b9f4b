"""Pages kept as skeletons (core/skeleton.py): written as the attacker would try them first.

The step page's text outside its live parts is kept per worker and served to everybody who
opens the same step of the same grid in the same language. The attack: make the server keep
one person's page (signed in, with a name, a comment, a message, a closed positioning), then
open the same step as someone else and look for any of it; and the other way round.
"""

from __future__ import annotations

import gc
import re
import weakref
from datetime import timedelta

import pytest
from django.template import engines
from django.test import Client, RequestFactory
from django.urls import reverse
from django.utils import timezone

from grille.assessments.models import Assessment
from grille.core import skeleton
from grille.core.skeleton import clear_skeletons, render_page
from grille.frameworks.selectors import get_grid
from tests.factories import answer, assessment_url, make_user, start_positioning, step_data

CSRF_VALUE = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def page(client: Client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, response.status_code
    return response.content.decode()


def without_tokens(html: str) -> str:
    return CSRF_VALUE.sub('name="csrfmiddlewaretoken" value=""', html)


def person(name: str | None, step: int = 1) -> tuple[Client, Assessment, list[str]]:
    """A browser with a positioning, a commented answer and a message waiting; signed in with a
    name and an address when ``name`` is given. Returns what of it no one else may see."""
    client = Client()
    secrets = []
    if name is not None:
        user = make_user(f"{name.lower()}.secret@exemple.fr")
        user.display_name = f"{name} Trésecret"
        user.save()
        client.force_login(user)
        secrets += [user.email, user.display_name]
    positioning = start_positioning(client)
    comment = f"Commentaire très privé de {name or 'visiteur'} {positioning.pk}"
    practices = [p.code for p in get_grid(positioning.version_id).situations[step - 1].practices]
    # Saving the step leaves a message, shown once on the next page.
    saved = client.post(assessment_url("step", positioning, step), step_data(
        practices, **{f"p{step}_1": {"niveau": "2", "commentaire": comment}}
    ))
    assert saved.status_code == 302
    return client, positioning, [*secrets, str(positioning.uuid), positioning.uuid.hex, comment, f"Étape {step} enregistrée."]


@pytest.fixture
def camille(version):
    client, positioning, _secrets = person("Camille")
    page(client, assessment_url("recap", positioning))  # the message is shown there
    return client, positioning


@pytest.fixture
def visitor(version):
    client = Client()
    return client, start_positioning(client)


@pytest.mark.parametrize("signed_in", [True, False])
def test_a_kept_step_page_shows_nothing_of_the_person_it_was_first_made_for(version, signed_in):
    clear_skeletons()
    first = person("Camille" if signed_in else None)
    second = person("Dominique" if signed_in else None, step=2)
    pages: dict[tuple[int, int], str] = {}
    for number in (1, 2, 8):
        for client, positioning, _secrets in (first, second):
            pages[(positioning.pk, number)] = page(client, assessment_url("step", positioning, number))
    assert skeleton._skeletons, "the step page is kept"

    for number in (1, 2, 8):
        for (_c, mine, _s), (_c2, _theirs, their_secrets) in ((first, second), (second, first)):
            shown = pages[(mine.pk, number)]
            for secret in their_secrets:
                assert secret not in shown, (number, secret)
        # Each CSRF token is the page's own: never the other person's.
        assert set(CSRF_VALUE.findall(pages[(first[1].pk, number)])).isdisjoint(
            CSRF_VALUE.findall(pages[(second[1].pk, number)])
        )
    for (_client, positioning, secrets), step in ((first, 1), (second, 2)):
        assert secrets[-1] in pages[(positioning.pk, 1)], "each person's own message is shown"
        assert f"{secrets[-2]}</textarea>" in pages[(positioning.pk, step)]
    assert ("Se déconnecter" in pages[(first[1].pk, 1)]) is signed_in
    # Each person's own progress: one practice answered, in step 1 for one, step 2 for the other.
    for number in (1, 2, 8):
        mine, theirs = pages[(first[1].pk, number)], pages[(second[1].pk, number)]
        assert 'data-step-count="1">1/3<' in mine and 'data-step-count="2">0/3<' in mine
        assert 'data-step-count="1">0/3<' in theirs and 'data-step-count="2">1/3<' in theirs
        assert 'value="1">1 / 24</progress>' in mine and 'value="1">1 / 24</progress>' in theirs


@pytest.mark.parametrize("language", ["fr", "en"])
def test_a_step_page_is_the_same_whether_kept_or_rendered_in_full(camille, visitor, settings, language):
    (c_client, c_pos), (v_client, v_pos) = camille, visitor
    answer(v_pos, "2.1", level="3", comment='<b>gras</b> & "guillemets"')
    Assessment.objects.filter(pk=v_pos.pk).update(answers_until=timezone.now() - timedelta(days=1))
    for client in (c_client, v_client):
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    cases = [
        (c_client, assessment_url("step", c_pos, 1)),
        (c_client, assessment_url("step", c_pos, 2) + '?retour="><script>x</script>'),
        (v_client, assessment_url("step", v_pos, 2)),  # closed: the notice shows
        (v_client, assessment_url("step", v_pos, 8)),
    ]
    for client, url in cases:
        clear_skeletons()
        settings.GRILLE_FRAGMENT_CACHE = False
        full = without_tokens(page(client, url))
        settings.GRILLE_FRAGMENT_CACHE = True
        first = without_tokens(page(client, url))
        again = without_tokens(page(client, url))
        assert first == full, url
        assert again == full, url
    closed = page(v_client, assessment_url("step", v_pos, 2))
    assert "&lt;b&gt;gras&lt;/b&gt; &amp; &quot;guillemets&quot;</textarea>" in closed
    assert 'class="error-summary" role="alert"' in closed
    tricked = page(c_client, assessment_url("step", c_pos, 2) + '?retour="><script>x</script>')
    assert "?retour=" in tricked
    assert "<script>x" not in tricked


@pytest.mark.parametrize("analyst_first", [True, False])
def test_the_menu_of_a_kept_page_offers_studies_only_to_those_who_run_them(version, settings, analyst_first):
    from django.contrib.auth.models import Permission

    analyst, plain = person("Ana"), person("Paul")
    analyst_user = Assessment.objects.get(pk=analyst[1].pk).owner
    analyst_user.user_permissions.add(Permission.objects.get(codename="run_studies"))
    studies_link = f'href="{reverse("studies:list")}"'
    order = (analyst, plain) if analyst_first else (plain, analyst)
    for client, positioning, _secrets in order:
        page(client, assessment_url("recap", positioning))  # the message « Étape 1 enregistrée » shown there
    clear_skeletons()
    kept = {positioning.pk: page(client, assessment_url("step", positioning, 1)) for client, positioning, _s in order}
    assert skeleton._skeletons, "the step page is kept"
    assert studies_link in kept[analyst[1].pk]
    assert studies_link not in kept[plain[1].pk]
    settings.GRILLE_FRAGMENT_CACHE = False
    for client, positioning, _secrets in order:
        assert without_tokens(kept[positioning.pk]) == without_tokens(page(client, assessment_url("step", positioning, 1)))


def test_nothing_is_kept_in_debug_or_when_switched_off(visitor, settings):
    client, positioning = visitor
    clear_skeletons()
    settings.DEBUG = True
    page(client, assessment_url("step", positioning, 1))
    settings.DEBUG = False
    settings.GRILLE_FRAGMENT_CACHE = False
    page(client, assessment_url("step", positioning, 1))
    assert not skeleton._skeletons
    settings.GRILLE_FRAGMENT_CACHE = True
    page(client, assessment_url("step", positioning, 1))
    assert skeleton._skeletons


def build(source: str, values: dict, private: tuple[str, ...] = ()) -> skeleton.Skeleton | None:
    template = engines["django"].from_string("{% load skeleton %}" + source).template  # type: ignore[attr-defined]
    request = RequestFactory().get("/")
    request.user = make_anonymous()
    return skeleton._build(request, template, values, private, None)


def make_anonymous():
    from django.contrib.auth.models import AnonymousUser

    return AnonymousUser()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("source", "private", "why"),
    [
        ("<form>{% csrf_token %}</form>{% live %}{{ n }}{% endlive %}", (), "a CSRF token outside a live part"),
        ("{% for x in items %}{% live %}{{ x }}{% endlive %}{% endfor %}", (), "a live part in a loop"),
        ("<p>{{ name }}</p>{% live %}{{ n }}{% endlive %}", ("Dominique",), "a private value outside"),
        ("<p>{{ name }}</p>", (), "no live part at all"),
        ("<p>\ue000{{ n }}\ue001</p>{% live %}{{ n }}{% endlive %}", (), "a marker in the page's own text"),
    ],
)
def test_a_skeleton_that_would_keep_a_persons_data_is_refused(source, private, why):
    assert build(source, {"name": "Dominique", "n": 3, "items": [1, 2]}, private) is None, why


@pytest.mark.django_db
def test_a_skeleton_fills_each_live_part_in_the_requests_own_context():
    kept = build("<h1>{{ title }}</h1>{% live %}<p>{{ name }}</p>{% endlive %}<i>{% live %}{{ n }}{% endlive %}</i>",
                 {"title": "Étape", "name": "A", "n": 1})
    assert kept is not None
    assert kept.texts == ("<h1>Étape</h1>".encode(), b"<i>", b"</i>")
    request = RequestFactory().get("/")
    request.user = make_anonymous()
    assert kept.fill(request, {"title": "ignored", "name": "<B>", "n": 2}).decode() == "<h1>Étape</h1><p>&lt;B&gt;</p><i>2</i>"


class Shown:
    """A value a page shows, whose freeing can be watched."""

    def __str__(self) -> str:
        return "montré"


@pytest.mark.django_db
def test_a_filled_page_frees_its_values_as_it_ends_without_a_garbage_collection():
    kept = build("<p>x</p>{% live %}{{ shown }}{% for item in items %}{{ item }}{% endfor %}{% endlive %}", {})
    assert kept is not None
    request = RequestFactory().get("/")
    request.user = make_anonymous()
    shown, item = Shown(), Shown()
    watched = [weakref.ref(shown), weakref.ref(item)]
    gc.disable()
    try:
        assert kept.fill(request, {"shown": shown, "items": [item]}).decode() == "<p>x</p>montrémontré"
        del shown, item
        # Django's context dicts refer back to their context: left as they are, the page's
        # values wait for the collector, which then runs more often on a busy worker.
        assert [ref() for ref in watched] == [None, None]
    finally:
        gc.enable()


def counting(name: str, values: dict, runs: list[str]):
    def processor(request):
        runs.append(name)
        return dict(values)

    return processor


def test_context_processors_run_only_when_a_live_part_reads_their_variables():
    runs: list[str] = []
    first = counting("first", {"a": 1, "shared": "first"}, runs)
    second = counting("second", {"b": 2, "shared": "second"}, runs)
    request = RequestFactory().get("/")
    keys = skeleton.processor_keys(request, [first, second])
    runs.clear()
    lazy = skeleton.LazyProcessors(request, keys)

    assert "a" in lazy and "b" in lazy and "other" not in lazy
    assert runs == []
    assert lazy["a"] == 1
    assert lazy["a"] == 1
    assert runs == ["first"]
    # A variable two processors give is the later one's, as RequestContext has it, whatever
    # ran first.
    assert lazy["shared"] == "second"
    assert lazy.get("b") == 2 and lazy.get("other", "none") == "none"
    assert runs == ["first", "second"]


def test_every_way_of_reading_the_lazy_processors_sees_values_never_a_stand_in():
    request = RequestFactory().get("/")
    processor = counting("only", {"a": 1, "b": "deux"}, [])
    for read in (dict, lambda lazy: {**lazy}, lambda lazy: dict(lazy.items()), lambda lazy: lazy.copy(),
                 lambda lazy: {key: lazy[key] for key in lazy}, lambda lazy: dict(zip(lazy, lazy.values(), strict=True))):
        lazy = skeleton.LazyProcessors(request, skeleton.processor_keys(request, [processor]))
        flat: dict = {}
        flat.update(lazy)
        assert read(lazy) == {"a": 1, "b": "deux"} == flat


@pytest.mark.django_db
def test_a_filled_page_reads_the_request_context_processors_as_a_full_render_does(rf, settings):
    kept = build("<p>x</p>{% live %}{{ LANGUAGE_CODE }}|{{ user.is_authenticated }}|{{ request.path }}|"
                 "{% if messages %}m{% endif %}|{{ csrf_token|length }}{% endlive %}", {})
    assert kept is not None
    request = rf.get("/chemin/")
    request.user = make_anonymous()
    request._messages = []  # as MessageMiddleware sets it: no message
    assert kept.fill(request, {}).decode() == "<p>x</p>fr|False|/chemin/||64"


@pytest.mark.django_db
def test_render_page_renders_in_full_without_a_key(rf):
    request = rf.get("/")
    request.user = make_anonymous()
    clear_skeletons()
    response = render_page(request, "core/base.html", {}, key=None)
    assert response.status_code == 200
    assert not skeleton._skeletons


# --- The submitted profile: kept per positioning, seen by its owner and by browsers it was granted to


def profile_page(client: Client, positioning: Assessment) -> str:
    return page(client, assessment_url("profile", positioning))


def owner_and_others(version, *, with_earlier: bool = True):
    """Camille, signed in, member of a structure, with two submitted positionings (the profile
    of the second compares with the first) or one; Dominique, signed in, and an anonymous
    browser, both opened the later one's resume link (so the first is not theirs to see)."""
    from grille.assessments import services
    from grille.organisations.services import create_organisation
    from tests.organisations.conftest import make_person, submitted_positioning

    camille = make_person("camille.secret@exemple.fr", "Camille Trésecret")
    create_organisation(user=camille, name="Communauté Secrète du Val", structure_type="epci")
    earlier = submitted_positioning(camille, version, {"1.1": "1", "1.2": "2"}) if with_earlier else None
    later = submitted_positioning(camille, version, {"1.1": "3", "1.2": "2"})
    owner = Client()
    owner.force_login(camille)
    dominique = Client()
    dominique.force_login(make_person("dominique.secret@exemple.fr", "Dominique Trèsdiscret"))
    anonymous = Client()
    for client in (dominique, anonymous):
        assert client.get(reverse("assessments:resume", args=[services.renew_resume_link(assessment=later)])).status_code == 302
    return owner, dominique, anonymous, earlier, later


@pytest.mark.parametrize("with_earlier", [True, False])
@pytest.mark.parametrize("owner_first", [True, False])
def test_a_kept_profile_shows_nothing_of_the_viewer_it_was_first_made_for(version, owner_first, with_earlier):
    owner, dominique, anonymous, earlier, later = owner_and_others(version, with_earlier=with_earlier)
    clear_skeletons()
    order = [owner, dominique, anonymous] if owner_first else [anonymous, dominique, owner]
    pages = {id(client): [profile_page(client, later) for _ in range(2)] for client in order}
    assert any(key[0] == "assessments/profile.html" for key in skeleton._skeletons)

    mine = pages[id(owner)]
    assert all("Communauté Secrète du Val" in p for p in mine), "the owner's structure offers to share"
    assert all(("Comparaison avec votre positionnement du" in p) is with_earlier for p in mine)
    for client in (dominique, anonymous):
        for shown in pages[id(client)]:
            for secret in ("Communauté Secrète du Val", "Comparaison avec votre positionnement du",
                           str(earlier.uuid) if earlier else "Communauté", "camille.secret@exemple.fr", "Camille Trésecret"):
                assert secret not in shown, secret
    assert "Dominique Trèsdiscret" not in "".join(mine + pages[id(anonymous)])
    tokens = [set(CSRF_VALUE.findall(p)) for p in mine + pages[id(dominique)] + pages[id(anonymous)]]
    for i, first in enumerate(tokens):
        for second in tokens[i + 1:]:
            assert first.isdisjoint(second)
    assert ("Se déconnecter" in pages[id(anonymous)][1]) is False


def test_a_kept_profile_follows_the_peer_comparison_and_is_the_same_as_in_full(version, settings):
    owner, _dominique, _anonymous, _earlier, later = owner_and_others(version)
    clear_skeletons()
    settings.GRILLE_FRAGMENT_CACHE = False
    full = without_tokens(profile_page(owner, later))
    settings.GRILLE_FRAGMENT_CACHE = True
    assert without_tokens(profile_page(owner, later)) == full
    assert without_tokens(profile_page(owner, later)) == full
    assert "Rejoindre la comparaison" in full

    joined = owner.post(assessment_url("peers_join", later), {"structure_type": "epci", "consent": "on"})
    assert joined.status_code == 302
    after = profile_page(owner, later)
    assert "Vous participez à la comparaison" in after
    assert "Rejoindre la comparaison" not in after
