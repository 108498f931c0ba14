#!/bin/bash
. "$top_srcdir/tests/integration/lib.sh"
skip_all "not yet"
