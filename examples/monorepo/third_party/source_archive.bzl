"""source_archive: a repository from an unmodified upstream release archive on local disk.

This machine cannot download, so the archives sit in a directory of upstream sources:
$IRONWAL_THIRD_PARTY_SRC when set, else ../shared/third_party-src beside ironwal's checkout
(three levels above this workspace). The archive must have the pinned SHA-256; Bazel checks it
(download_and_extract of a file:// URL), and the directory's SHA256SUMS must list the same sum.
"""

def _sources_dir(rctx):
    configured = rctx.os.environ.get("IRONWAL_THIRD_PARTY_SRC", "")
    if configured:
        return configured
    root = rctx.path(Label("//:WORKSPACE")).dirname
    return "%s/../../../shared/third_party-src" % root

def _source_archive_impl(rctx):
    found = rctx.execute(["realpath", "-e", _sources_dir(rctx)])
    if found.return_code != 0:
        fail("no directory of upstream sources at %s: set IRONWAL_THIRD_PARTY_SRC" %
             _sources_dir(rctx))
    sources = found.stdout.strip()
    sums = rctx.read(sources + "/SHA256SUMS")
    if "%s  %s" % (rctx.attr.sha256, rctx.attr.archive) not in sums:
        fail("%s/SHA256SUMS does not list %s with the pinned SHA-256 %s" %
             (sources, rctx.attr.archive, rctx.attr.sha256))
    rctx.download_and_extract(
        url = "file://%s/%s" % (sources, rctx.attr.archive),
        sha256 = rctx.attr.sha256,
        stripPrefix = rctx.attr.strip_prefix,
    )

source_archive = repository_rule(
    implementation = _source_archive_impl,
    attrs = {
        "archive": attr.string(mandatory = True),
        "sha256": attr.string(mandatory = True),
        "strip_prefix": attr.string(mandatory = True),
    },
    environ = ["IRONWAL_THIRD_PARTY_SRC"],
)
