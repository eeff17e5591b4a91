#!/bin/sh
# For every VAR_FILE=/path in the environment, export VAR with the file's content: secrets
# arrive as compose `secrets:` files, never as values in the compose file or the image.
set -eu
for var in $(env | sed -n 's/^\(VITRINA__[A-Z0-9_]*\)_FILE=.*/\1/p'); do
  file="$(printenv "${var}_FILE")"
  value="$(cat "$file")"
  export "$var=$value"
  unset "${var}_FILE"
done
exec "$@"
