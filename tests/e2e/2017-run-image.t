#!/usr/bin/env bash
# ferry run: uses: ferry/image@v1 builds a Containerfile through the
# Docker Engine API (Podman's service), tags it by the scheme (sha-<7>
# always; develop-N on develop, latest on main, v1.2.3 and 1.2 on a
# release tag) and pushes every tag to a throw-away registry: the
# registry lists the tags, the digest output is the registry's own
# Docker-Content-Digest, the image pulls back by digest, ferry run prints
# the report line.  A failing build fails the step with the instruction's
# error; bad inputs exit 2; no engine and a refused push fail clearly.
. "$(dirname "$0")/lib.sh"

. "$(dirname "$0")/podman-lib.sh"

command -v docker-registry >/dev/null ||
    { echo "1..0 # SKIP docker-registry is not installed"; exit 0; }
podman_require
plan 18

REGDIR=$T/registry
REG=$("$ROOT/scripts/registry.sh" start "$REGDIR" 0 | sed -n 's/^registry: //p')
[ -n "$REG" ] || { echo "Bail out! the registry did not start"; "$ROOT/scripts/registry.sh" stop "$REGDIR"; exit 1; }
image_cleanup() {
    exec 2>/dev/null
    # what the test built and pulled (the podman CLI needs no service)
    podman images --format '{{.Repository}}:{{.Tag}}' |
        grep -E "^($REG/|localhost/ferry-e2e-2017:|127\.0\.0\.1:1/ferry/app:)" |
        xargs -r podman rmi -f >/dev/null
    podman images --format '{{.Repository}}@{{.Digest}}' | grep -F "$REG/" |
        xargs -r podman rmi -f >/dev/null
    podman_cleanup
    "$ROOT/scripts/registry.sh" stop "$REGDIR"
    cleanup
}
trap image_cleanup EXIT
podman_start "$REG"
# podman_start chained the trap it found; ours alone, so that the
# environment is torn down while the service still answers
trap image_cleanup EXIT
NAME=$REG/ferry/app

R=$T/repo
mkdir -p "$R"
cat >"$R/Containerfile" <<'EOF'
FROM localhost/ferry-base:latest
ARG MSG=unset
RUN echo "$MSG" > /msg.txt
CMD ["cat", "/msg.txt"]
EOF
workflow "$R" image.yml <<EOF
on: push
jobs:
  image:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - id: img
        uses: ferry/image@v1
        with:
          name: $NAME
          push: true
          build-args: |
            MSG=hello from \${{ github.ref_name }}
          labels: |
            org.example.team=ferry
      - run: |
          echo "out-digest=\${{ steps.img.outputs.digest }}"
          echo "out-ref=\${{ steps.img.outputs.ref }}"
          echo "out-tags=\${{ steps.img.outputs.tags }}"
          echo "out-image=\${{ steps.img.outputs.image }}"
EOF
mkrepo "$R" >/dev/null
git -C "$R" checkout -q -b develop
SHA7=$(git -C "$R" rev-parse HEAD | cut -c1-7)

export -f status_is out_has out_lacks err_has out_matches
out_value() { sed -n "s/.*| out-$1=//p" "$T/out" | head -1; }
tags_of() { curl -fsS "http://$REG/v2/ferry/app/tags/list"; }
registry_digest() {
    curl -fsSI -H 'Accept: application/vnd.oci.image.manifest.v1+json' \
        -H 'Accept: application/vnd.docker.distribution.manifest.v2+json' \
        "http://$REG/v2/ferry/app/manifests/$1" |
        tr -d '\r' | sed -n 's/^[Dd]ocker-[Cc]ontent-[Dd]igest: //p'
}

# ---- develop: sha-<7> and develop-<run number> ----
run_ferry run push -C "$R"
ok "develop: the image is built and pushed" bash -c 'status_is 0 && out_has "pushing '"$NAME"':sha-'"$SHA7"'" && out_has "pushing '"$NAME"':develop-1"'
ok "develop: tags output is sha-<7>,develop-<run>" bash -c '[ "$(sed -n "s/.*| out-tags=//p" "$T/out")" = "sha-'"$SHA7"',develop-1" ] || cat "$T/out"'
ok "develop: the registry lists both tags" bash -c 'tags_of() { curl -fsS "http://'"$REG"'/v2/ferry/app/tags/list"; }; t=$(tags_of); echo "$t"; echo "$t" | grep -q "\"sha-'"$SHA7"'\"" && echo "$t" | grep -q "\"develop-1\""'
DIGEST=$(out_value digest)
REGDIGEST=$(registry_digest develop-1)
echo "# digest output $DIGEST, registry $REGDIGEST"
ok "the digest output is the registry's Docker-Content-Digest" \
    bash -c "[ -n '$DIGEST' ] && [ '$DIGEST' = '$REGDIGEST' ] && [ '$DIGEST' = '$(registry_digest "sha-$SHA7")' ]"
ok "ref is name@digest, image is the name" \
    bash -c "[ '$(out_value ref)' = '$NAME@$DIGEST' ] && [ '$(out_value image)' = '$NAME' ]"
ok "ferry run prints the report line" out_has "report: image $NAME@$DIGEST"

# pull back by digest, with the local tags gone first
podman rmi -f "$NAME:develop-1" "$NAME:sha-$SHA7" >/dev/null 2>&1
ok "the image pulls back by digest and holds the build" bash -c '
    curl -fsS --unix-socket "$T/podman.sock" -X POST \
        "http://d/v1.41/images/create?fromImage='"$NAME"'@'"$DIGEST"'" >/dev/null &&
    [ "$(podman run --rm '"$NAME@$DIGEST"')" = "hello from develop" ]'
ok "labels: the given one and the revision" bash -c '
    l=$(podman image inspect --format "{{json .Labels}}" '"$NAME@$DIGEST"'); echo "$l";
    echo "$l" | grep -q "\"org.example.team\":\"ferry\"" &&
    echo "$l" | grep -q "\"org.opencontainers.image.revision\":\"$(git -C "$T/repo" rev-parse HEAD)\""'

# ---- main: latest ----
git -C "$R" checkout -q main
run_ferry run push -C "$R"
ok "main: tags sha-<7> and latest" bash -c 'status_is 0 && [ "$(sed -n "s/.*| out-tags=//p" "$T/out")" = "sha-'"$SHA7"',latest" ] && curl -fsS "http://'"$REG"'/v2/ferry/app/tags/list" | grep -q "\"latest\""'

# ---- a release tag: v1.2.3 and 1.2 ----
git -C "$R" tag v1.2.3
git -C "$R" checkout -q v1.2.3
run_ferry run push -C "$R"
ok "tag v1.2.3: tags sha-<7>, v1.2.3 and 1.2" bash -c 'status_is 0 && [ "$(sed -n "s/.*| out-tags=//p" "$T/out")" = "sha-'"$SHA7"',v1.2.3,1.2" ] &&
    t=$(curl -fsS "http://'"$REG"'/v2/ferry/app/tags/list") && echo "$t" | grep -q "\"v1.2.3\"" && echo "$t" | grep -q "\"1.2\""'
git -C "$R" checkout -q develop

# ---- the step by itself: another run number and branch, no push ----
step() {
    (cd "$R" && env GITHUB_WORKSPACE="$R" GITHUB_SHA="$(git -C "$R" rev-parse HEAD)" \
        GITHUB_OUTPUT="$T/step.out" GITHUB_STEP_SUMMARY="$T/step.md" \
        FERRY_REPORT="$T/step.report" "$@" "$FERRY" __image) >"$T/out" 2>"$T/err"
    echo $? >"$T/status"
}
: >"$T/step.out"
step GITHUB_REF=refs/heads/feature/Login-Page GITHUB_RUN_NUMBER=17 \
    INPUT_NAME=localhost/ferry-e2e-2017 "INPUT_BUILD-ARGS=MSG=local"
ok "feature/Login-Page run 17: tags sha-<7> and feature-login-page-17, not pushed" bash -c '
    status_is 0 && grep -qx "tags=sha-'"$SHA7"',feature-login-page-17" "$T/step.out" &&
    grep -q "\"pushed\":false" "$T/step.report" && grep -q "| pushed | no" "$T/step.md" &&
    [ "$(podman run --rm localhost/ferry-e2e-2017:feature-login-page-17)" = local ]'

# ---- failures ----
mkdir -p "$T/bad"
cp -r "$R/.github" "$T/bad/"
cat >"$T/bad/Containerfile" <<'EOF'
FROM localhost/ferry-base:latest
RUN echo step one
RUN exit 3
EOF
mkrepo "$T/bad" >/dev/null
run_ferry run push -C "$T/bad"
ok "a failing build fails the step with the instruction's error" bash -c 'status_is 1 && out_matches "the build of '"$NAME"' failed: .*RUN exit 3.*exit status 3" && out_lacks "pushing "'

step GITHUB_REF=refs/heads/main INPUT_NAME="$NAME" INPUT_FOO=bar
ok "an unknown input exits 2 naming it" bash -c 'status_is 2 && err_has "unknown input '"'foo'"' for ferry/image"'
step GITHUB_REF=refs/heads/main INPUT_NAME="$NAME:v1"
ok "a name with a tag exits 2" bash -c 'status_is 2 && err_has "input '"'name'"'"'
step GITHUB_REF=refs/heads/main INPUT_NAME="$NAME" INPUT_PUSH=maybe
ok "push: maybe exits 2" bash -c 'status_is 2 && err_has "input '"'push'"': expected true or false"'
step GITHUB_REF=refs/heads/main INPUT_NAME="$NAME" INPUT_PUSH=true INPUT_USERNAME=u
ok "username without password exits 2" bash -c 'status_is 2 && err_has "go together"'
step GITHUB_REF=refs/heads/main INPUT_NAME="$NAME" DOCKER_HOST=unix://$T/none.sock
ok "no engine: a clear error" bash -c 'status_is 1 && err_has "no container engine at unix://'"$T"'/none.sock"'
step GITHUB_REF=refs/heads/main INPUT_NAME=127.0.0.1:1/ferry/app INPUT_PUSH=true
ok "a push the registry refuses fails the step" bash -c 'status_is 1 && err_has "the push of 127.0.0.1:1/ferry/app:sha-'"$SHA7"' was refused"'
