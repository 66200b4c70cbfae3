#!/bin/sh
# CMAKE_STRIP of the package build (make-debs.sh): strips as dh_strip does,
# the .comment and .note sections included (lintian: binary-has-unneeded-section).
exec strip --remove-section=.comment --remove-section=.note "$@"
