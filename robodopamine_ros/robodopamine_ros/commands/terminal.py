# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
r"""
Text from files, printed on the operator's terminal, with its control characters escaped.

Annotations, task instructions and topic names come from files and bags anyone can write: an
escape sequence in them (``\\x1b[2J``, an OSC title, a carriage return) would clear or rewrite
the operator's terminal. ``printable`` escapes every character that is not printable (C0 and
C1 controls, line and paragraph separators, newlines) as Python writes it (``\\x1b``); JSON
output (``--json``) is escaped by json.dumps already.
"""


def printable(text):
    r"""Return str(text) with each non-printable character escaped (\\x1b, \\n, \\u2028)."""
    text = str(text)
    if text.isprintable():
        return text
    return ''.join(c if c.isprintable() else c.encode('unicode_escape').decode('ascii')
                   for c in text)
