"""Markdown rendering: formatting kept, anything able to run script removed."""

from __future__ import annotations

from palier.kb.render import html_to_text, markdown_to_html


def test_markdown_formatting_is_kept() -> None:
    html = markdown_to_html("# Title\n\n**bold** and [a link](https://example.test/x)\n\n- one\n- two")
    assert "<h1>Title</h1>" in html
    assert "<strong>bold</strong>" in html
    assert 'href="https://example.test/x"' in html
    assert "<li>one</li>" in html


def test_script_tags_are_removed() -> None:
    html = markdown_to_html("Hello <script>alert('x')</script> world\n\n<script src='https://evil.test/x.js'></script>")
    assert "<script" not in html.lower()
    assert "alert(" not in html


def test_javascript_links_lose_their_target() -> None:
    html = markdown_to_html(
        '[click](javascript:alert(1)) [caps](JaVaScRiPt:alert(3)) <a href="javascript:alert(2)">raw</a>'
    )
    assert "href" not in html  # the Markdown links stay plain text, the raw one loses its href
    assert "raw</a>" in html


def test_disguised_script_links_lose_their_target() -> None:
    sources = [
        '<a href="jav&#x61;script:alert(1)">entity</a>',
        '<a href=" javascript:alert(1)">space</a>',
        '<a href="java\tscript:alert(1)">tab</a>',
        '<a href="vbscript:msgbox(1)">vb</a>',
        "[data](data:text/html;base64,PHNjcmlwdD4=)",
        '<img src="javascript:alert(1)">',
        '<math><mi xlink:href="javascript:alert(1)">x</mi></math>',
    ]
    for source in sources:
        html = markdown_to_html(source)
        assert "href" not in html and "src" not in html and "script:" not in html.replace("[", ""), source


def test_event_handler_attributes_are_removed() -> None:
    html = markdown_to_html('<img src="x.png" onerror="alert(1)"> <p onclick="steal()">hi</p>')
    assert "onerror" not in html.lower()
    assert "onclick" not in html.lower()
    assert '<img src="x.png">' in html


def test_styles_iframes_and_forms_are_removed() -> None:
    html = markdown_to_html('<style>body{}</style><iframe src="https://evil.test"></iframe><form><input></form>')
    assert "<style" not in html and "<iframe" not in html and "<form" not in html and "<input" not in html


def test_plain_text_keeps_words_apart() -> None:
    assert html_to_text("<h1>Réseau</h1><p>Imprimante &amp; VPN</p>") == "Réseau Imprimante & VPN"
