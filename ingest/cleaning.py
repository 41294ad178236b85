"""Rule-based removal of page furniture, so it is never chunked, retrieved or cited.

Web copies of articles carry text that is not the article: cookie notices, contact and newsletter
prompts, share buttons, and (in text pasted from a chat assistant) its closing offer to write a
social-media post. Each rule matches a whole line. Rules only fire on short lines, so a paragraph of
real content that mentions cookies or newsletters is kept.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

# Bump when a rule changes: the ingest re-processes documents cleaned by older rules.
RULES_VERSION = "1"

_MAX_FURNITURE_CHARS = 300

RULES: dict[str, re.Pattern[str]] = {
    name: re.compile(pattern, re.IGNORECASE)
    for name, pattern in {
        "cookie notice": r"\b(uses?|use of|accepts?( all)?|allow|manage)\s+(the\s+)?cookies\b"
        r"|\bcookie (policy|settings|preferences|notice|consent)\b",
        "contact prompt": r"^(get|keep|stay) in touch\W*$|^contact us\W*$|^we welcome connection\b"
        r"|\bdon['’]t hesitate to (get in touch|contact|reach out)\b",
        "newsletter prompt": r"\b(subscribe|sign up) (to|for) (our|the) newsletter\b"
        r"|^stay in the know\W*$|^(subscribe|sign up)( now| today)?\W*$",
        "share prompt": r"^(share (this|on)\b|follow us on\b|share\W*$)",
        "assistant offer": r"^(would you like|do you want|shall i|should i|want me to)\b.{0,160}"
        r"\b(post|summary|version|tweet|thread|draft|caption|e-?mail|rewrite|outline|slides?)\b.*\?$"
        r"|^let me know if you(['’]d| would) like\b",
    }.items()
}


@dataclass
class CleanedText:
    text: str
    removed: list[tuple[str, str]] = field(default_factory=list)  # (rule, line)


def furniture_rule(line: str) -> str | None:
    """The name of the rule a line breaks, or None when the line is content."""
    stripped = line.strip()
    if not stripped or len(stripped) > _MAX_FURNITURE_CHARS:
        return None
    return next((name for name, rule in RULES.items() if rule.search(stripped)), None)


def clean(text: str) -> CleanedText:
    """Normalise whitespace and remove furniture lines and repeated lines.

    Character offsets of chunks refer to the returned text.
    """
    text = unicodedata.normalize("NFC", text).replace("\r\n", "\n").replace("\r", "\n")
    text = text.replace("\u00a0", " ").replace("\ufeff", "")
    kept: list[str] = []
    removed: list[tuple[str, str]] = []
    previous = ""
    for raw in text.split("\n"):
        line = raw.rstrip()
        rule = furniture_rule(line)
        if rule is None and line.strip() and line.strip() == previous:
            rule = "repeated line"  # an image caption printed twice, a heading echoed
        if rule is not None:
            removed.append((rule, line.strip()))
            continue
        kept.append(line)
        if line.strip():
            previous = line.strip()
    cleaned = re.sub(r"\n{3,}", "\n\n", "\n".join(kept)).strip()
    return CleanedText(cleaned, removed)
