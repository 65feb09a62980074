#!/bin/sh
# Rebuilds the real PDFs of test/fixtures/pdf and their pdftotext references (committed, so the
# tests need no poppler). Needs groff, man-db, dash, curl's manual page, chromium and poppler-utils.
set -eu
cd "$(dirname "$0")/../test/fixtures/pdf"
# Real manual pages of Debian packages under permissive licences, rendered by groff with its fonts.
man -Tpdf dash > dash.pdf
man -Tpdf curl > curl.pdf
# Our own documents: two columns with hyphenation (groff -ms), words drawn in several fonts
# (groff -man), CSS columns and a table printed by Chromium (Skia).
groff -ms -Tpdf two-column.ms > two-column.pdf
groff -man -Tpdf split-words.1 > split-words.pdf
chromium --headless --no-sandbox --disable-gpu --no-pdf-header-footer --print-to-pdf=columns.pdf columns.html 2>/dev/null
for f in dash curl two-column split-words columns; do pdftotext "$f.pdf" "$f.pdftotext.txt"; done
# A password-protected copy (user password "secret"), kept apart: it has no text anyone may read.
gs -q -sDEVICE=pdfwrite -sOwnerPassword=owner -sUserPassword=secret -dEncryptionR=3 -dKeyLength=128 -dPermissions=-3904 -o ../pdf-bad/password.pdf split-words.pdf
