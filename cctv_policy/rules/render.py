"""The published rule book as Markdown or as a standalone HTML page (print it, post it)."""

from __future__ import annotations

import html

from cctv_policy.rules.book import RuleBook


def rule_book_markdown(book: RuleBook) -> str:
    out = [
        f"# {book.title}",
        "",
        f"{book.label('effective')}: {book.effective_from}  ",
        f"{book.label('version')}: `{book.policy_version}`",
        "",
    ]
    for rule in book.rules:
        codes = ", ".join(f"`{c}`" for c in rule.codes)
        out += [f"## {rule.number}. {rule.title}", "", rule.text]
        out += ["", f"*{book.label('enforced_by')}: {codes}*"] if codes else []
        out.append("")
    return "\n".join(out)


def rule_book_html(book: RuleBook) -> str:
    e = html.escape
    items = []
    for rule in book.rules:
        codes = " ".join(f"<code>{e(c)}</code>" for c in rule.codes)
        checked = f'<p class="codes">{e(book.label("enforced_by"))}: {codes}</p>' if codes else ""
        items.append(
            f'<section id="{e(rule.number)}"><h2><span class="num">{e(rule.number)}</span> '
            f"{e(rule.title)}</h2><p>{e(rule.text)}</p>{checked}</section>"
        )
    lang = "zh-CN" if book.lang == "zh" else "en"
    return f"""<!doctype html><html lang="{lang}"><head><meta charset="utf-8">
<title>{e(book.title)}</title>
<style>body{{font-family:"Noto Sans CJK SC","Source Han Sans SC","WenQuanYi Micro Hei",
system-ui,sans-serif;max-width:46em;margin:2em auto;color:#1a202c;line-height:1.6}}
h1{{border-bottom:3px solid #2b6cb0;padding-bottom:.3em}}
.meta{{color:#4a5568;font-size:.9em}}section{{margin:1.2em 0;padding:.2em 1em;
border-left:4px solid #bee3f8}}h2{{font-size:1.15em;margin:.4em 0}}
.num{{display:inline-block;min-width:2.6em;color:#2b6cb0}}
.codes{{font-size:.8em;color:#718096}}code{{background:#edf2f7;padding:0 .3em}}</style>
</head><body><h1>{e(book.title)}</h1>
<p class="meta">{e(book.label("effective"))}: <strong>{e(book.effective_from)}</strong><br>
{e(book.label("version"))}: <code>{e(book.policy_version)}</code></p>
{"".join(items)}
</body></html>
"""
