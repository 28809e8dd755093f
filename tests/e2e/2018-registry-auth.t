#!/usr/bin/env bash
# Registry credentials against a registry that demands them
# (scripts/registry.sh --auth: htpasswd, anonymous requests get 401):
# ferry/image@v1 pushes with username/password from secrets (-s and
# --secret-file) and the password shows nowhere in ferry's output, logs
# or files; a push without them, or with a wrong password, fails saying
# so; a build FROM a private base image pulls it with the same inputs
# (X-Registry-Config) and fails clearly without; a job `container:` with
# `credentials:` pulls and runs, and fails clearly without; the
# container deploy target pulls with inputs username/password, and fails
# clearly without.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/deploy-lib.sh"
. "$(dirname "$0")/podman-lib.sh"

command -v docker-registry >/dev/null ||
    { echo "1..0 # SKIP docker-registry is not installed"; exit 0; }
podman_require
plan 17
uses_env private

USER_=ferry-ci
PW="pw-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')"
REGDIR=$T/registry
REG=$("$ROOT/scripts/registry.sh" start --auth "$USER_:$PW" "$REGDIR" 0 |
    sed -n 's/^registry: //p')
[ -n "$REG" ] || { echo "Bail out! the registry did not start"; "$ROOT/scripts/registry.sh" stop "$REGDIR"; exit 1; }
drop_images() {
    podman images --format '{{.Repository}}:{{.Tag}}' | grep -F "$REG/" |
        xargs -r podman rmi -f >/dev/null 2>&1
    podman images --format '{{.Repository}}@{{.Digest}}' | grep -F "$REG/" |
        xargs -r podman rmi -f >/dev/null 2>&1
    return 0
}
auth_cleanup() {
    exec 2>/dev/null
    "$FERRY" __deploy --stop private >/dev/null
    podman ps -aq --filter "label=io.ferry.deploy.envdir=$FERRY_DEPLOY_HOME/private" |
        xargs -r podman rm -f >/dev/null
    drop_images
    podman_cleanup
    "$ROOT/scripts/registry.sh" stop "$REGDIR"
    deploy_cleanup
}
trap auth_cleanup EXIT
podman_start "$REG"
# podman_start chained the trap it found; ours alone, so that the
# environment is torn down while the service still answers
trap auth_cleanup EXIT

R=$T/repo
mkdir -p "$R"
cat >"$R/Containerfile" <<'EOF'
FROM localhost/ferry-base:latest
RUN mkdir -p /www && echo private-ok > /www/index.html && echo private-ok > /msg.txt
CMD ["httpd", "-f", "-p", "8080", "-h", "/www"]
EOF
cat >"$R/Derived" <<EOF
FROM $REG/private:v1
RUN echo "derived from \$(cat /msg.txt)" > /derived.txt
EOF
# the credentials, as each job spells them (empty: none)
CRED='username: ${{ secrets.REG_USER }}
          password: ${{ secrets.REG_PASSWORD }}'
workflow "$R" reg.yml <<EOF
on: push
jobs:
  push:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - uses: ferry/image@v1
        with:
          no-cache: true
          name: $REG/private
          push: true
          tags: v1
          $CRED
  push-anon:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - uses: ferry/image@v1
        with:
          no-cache: true
          name: $REG/private
          push: true
          tags: v1
  derived:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - uses: ferry/image@v1
        with:
          no-cache: true
          name: $REG/derived
          file: Derived
          $CRED
  derived-anon:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - uses: ferry/image@v1
        with:
          no-cache: true
          name: $REG/derived
          file: Derived
  inside:
    runs-on: ubuntu-latest
    container:
      image: $REG/private:v1
      credentials:
        username: \${{ secrets.REG_USER }}
        password: \${{ secrets.REG_PASSWORD }}
    steps:
      - run: echo "inside says \$(cat /msg.txt)"
  inside-anon:
    runs-on: ubuntu-latest
    container:
      image: $REG/private:v1
    steps:
      - run: echo "inside says \$(cat /msg.txt)"
  deploy:
    runs-on: ubuntu-latest
    steps:
      - uses: ferry/deploy@v1
        with:
          environment: private
          target: container
          image: $REG/private:v1
          version: \${{ vars.VERSION }}
          $CRED
  deploy-anon:
    runs-on: ubuntu-latest
    steps:
      - uses: ferry/deploy@v1
        with:
          environment: private
          target: container
          image: $REG/private:v1
          version: \${{ vars.VERSION }}
EOF
mkrepo "$R" >/dev/null
printf 'REG_USER=%s\nREG_PASSWORD=%s\n' "$USER_" "$PW" >"$T/secrets.env"
export PW REG T FERRY_DEPLOY_HOME
export -f drop_images

# no_password: the password is in none of ferry's output, files or logs
# (the secret file aside)
no_password() {
    local hits
    hits=$(grep -rlF -- "$PW" "$T" 2>/dev/null | grep -vx "$T/secrets.env")
    [ -z "$hits" ] || { echo "the password is in:"; echo "$hits"; return 1; }
}
export -f no_password
anon_pull_refused() {
    local code
    code=$(curl -s -o /dev/null -w '%{http_code}' \
        "http://$REG/v2/private/manifests/v1")
    [ "$code" = 401 ] || { echo "anonymous manifest GET: $code"; return 1; }
}
export -f anon_pull_refused

# ---- push ----
run_ferry run push -C "$R" -j push-anon --home "$T/home"
ok "a push without credentials fails: the registry wants them" bash -c '
    status_is 1 &&
    out_has "was refused: push failed: the registry wants credentials for '"'"'$REG/private:sha-" &&
    out_has "and none were given (it said: " &&
    out_has "registry '"'"'$REG'"'"' needs credentials: give inputs '"'"'username'"'"' and '"'"'password'"'"'"'
echo "# $(grep -m2 -F 'ferry image:' "$T/out")"

run_ferry run push -C "$R" -j push -s REG_USER="$USER_" -s REG_PASSWORD=wrong-password --home "$T/home"
ok "a push with a wrong password fails: the registry refused them" bash -c '
    status_is 1 &&
    out_has "was refused: push failed: the registry refused the credentials given for '"'"'$REG/private:sha-" &&
    out_has "check inputs '"'"'username'"'"' and '"'"'password'"'"': registry '"'"'$REG'"'"' does not accept them"'

run_ferry run push -C "$R" -j push --secret-file "$T/secrets.env" --home "$T/home"
ok "a push with username/password from --secret-file works" bash -c '
    status_is 0 && out_has "pushing $REG/private:v1" && out_matches "pushed $REG/private@sha256:[0-9a-f]{64}"'
ok "the registry holds it, and refuses it to an anonymous pull" bash -c '
    curl -fsS -u "ferry-ci:$PW" "http://$REG/v2/private/tags/list" | grep -q "\"v1\"" &&
    anon_pull_refused'
ok "the password is in no output, log or file of ferry's" no_password

# ---- a build FROM a private base image ----
drop_images
run_ferry run push -C "$R" -j derived-anon --home "$T/home"
ok "a build FROM a private image without credentials fails: the registry wants them" bash -c '
    status_is 1 &&
    out_has "the build of $REG/derived failed: the registry wants credentials for an image the build pulls, and none were given" &&
    out_has "needs credentials: give inputs"'
echo "# $(grep -m1 -F 'ferry image:' "$T/out" | cut -c1-300)"

drop_images
run_ferry run push -C "$R" -j derived -s REG_USER="$USER_" -s REG_PASSWORD="$PW" --home "$T/home"
ok "with username/password (-s, no push) the build pulls its private base" bash -c '
    status_is 0 && out_has "built $REG/derived" &&
    [ "$(podman run --rm "$REG/derived:sha-$(git -C "$T/repo" rev-parse HEAD | cut -c1-7)" cat /derived.txt)" = "derived from private-ok" ]'

# ---- a job container from the private registry ----
drop_images
run_ferry run push -C "$R" -j inside-anon --home "$T/home"
ok "a job container without credentials fails: the registry wants them" bash -c '
    status_is 1 &&
    out_has "cannot pull image '"'"'$REG/private:v1'"'"'" &&
    out_has "the registry wants credentials for '"'"'$REG/private:v1'"'"' and none were given"'
echo "# $(grep -m1 -F 'cannot pull' "$T/out" | cut -c1-300)"

drop_images
run_ferry run push -C "$R" -j inside -s REG_USER="$USER_" -s REG_PASSWORD=wrong-password --home "$T/home"
ok "a job container with a wrong password fails: the registry refused it" bash -c '
    status_is 1 && out_has "refused the credentials given for '"'"'$REG/private:v1'"'"'"'

drop_images
run_ferry run push -C "$R" -j inside --secret-file "$T/secrets.env" --home "$T/home"
ok "a job container with credentials from secrets pulls and runs" bash -c '
    status_is 0 && out_has "inside says private-ok"'

# ---- the container deploy target ----
drop_images
run_ferry run push -C "$R" -j deploy-anon --var VERSION=v1 --home "$T/home"
ok "a deploy of a private image without credentials fails: the registry wants them" bash -c '
    status_is 1 &&
    out_has "cannot pull '"'"'$REG/private:v1'"'"': pull failed: the registry wants credentials" &&
    out_has "give inputs '"'"'username'"'"' and '"'"'password'"'"'"'
echo "# $(grep -m1 -F 'cannot pull' "$T/out" | cut -c1-300)"
"$FERRY" __deploy --unlock private >/dev/null 2>&1

drop_images
run_ferry run push -C "$R" -j deploy --var VERSION=v1 -s REG_USER="$USER_" -s REG_PASSWORD=wrong-password --home "$T/home"
ok "a deploy with a wrong password fails: the registry refused it" bash -c '
    status_is 1 && out_has "refused the credentials given" &&
    out_has "check inputs '"'"'username'"'"' and '"'"'password'"'"'"'
"$FERRY" __deploy --unlock private >/dev/null 2>&1

drop_images
run_ferry run push -C "$R" -j deploy --var VERSION=v2 --secret-file "$T/secrets.env" --home "$T/home"
ok "a deploy with credentials from secrets pulls the private image and serves" bash -c '
    status_is 0 && out_has "pulling $REG/private:v1" &&
    c=$(podman ps -q --filter "label=io.ferry.deploy.envdir=$FERRY_DEPLOY_HOME/private") &&
    [ -n "$c" ] &&
    [ "$(podman exec "$c" cat /www/index.html)" = private-ok ]'
ok "the deploy keeps no password: not in its release, records or state" bash -c '
    ! grep -rqF -- "$PW" "$FERRY_DEPLOY_HOME"'
ok "username/password are inputs of target container only" bash -c '
    cd "$T/repo" && env INPUT_ENVIRONMENT=x INPUT_COMMAND=true INPUT_USERNAME=u INPUT_PASSWORD=p \
        GITHUB_WORKSPACE="$T/repo" "$FERRY" __deploy >"$T/o" 2>&1; s=$?; cat "$T/o";
    [ $s = 2 ] && grep -qF "input '"'"'username'"'"' applies to target '"'"'container'"'"' only" "$T/o"'
ok "username without password is refused" bash -c '
    cd "$T/repo" && env INPUT_ENVIRONMENT=x INPUT_TARGET=container INPUT_IMAGE="$REG/private:v1" INPUT_USERNAME=u \
        GITHUB_WORKSPACE="$T/repo" "$FERRY" __deploy >"$T/o" 2>&1; s=$?; cat "$T/o";
    [ $s = 2 ] && grep -qF "inputs '"'"'username'"'"' and '"'"'password'"'"' go together" "$T/o"'

ok "after it all, the password is still in no output, log or file" no_password
