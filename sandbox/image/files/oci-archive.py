#!/usr/bin/python3
"""oci-archive.py LAYERS OUT NAMES ENTRYPOINT CMD [CONFIG]: packs folders as an image in
docker-archive form (what `docker save` writes, `ctr images import` and `podman load` read).

LAYERS is one folder or several joined by ':' (bottom first: a base, then the upper folder of an
overlay mount holding what one step changed). A layer may not delete anything: the images end
up inside the lab image, which is itself an overlayfs lower layer in every sandbox, so a
whiteout stored there would hide the file from the sandbox instead of from the image.
NAMES is one name or several joined by ','. ENTRYPOINT and CMD are JSON (a list, or null);
CONFIG, JSON too, is merged into the image config (Env, User, WorkingDir, Labels...).
Deterministic: same input, same image id. Layers are written through temporary files, so
images of hundreds of megabytes do not sit in memory."""

import hashlib
import io
import json
import os
import stat
import sys
import tarfile
import tempfile


def is_whiteout(st):
    return stat.S_ISCHR(st.st_mode) and st.st_rdev == 0


def layer(root, out):
    """Writes folder `root` as an uncompressed layer tar to the open file `out`."""
    with tarfile.open(fileobj=out, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for dirpath, dirnames, filenames in os.walk(root):
            dirnames.sort()
            for name in sorted(dirnames) + sorted(filenames):
                path = os.path.join(dirpath, name)
                arcname = os.path.relpath(path, root)
                st = os.lstat(path)
                if is_whiteout(st):
                    sys.exit(f"oci-archive.py: {path} is an overlayfs whiteout (a removed file); "
                             "remove the file from the upper folder instead (see the comment at the top)")
                info = tar.gettarinfo(path, arcname=arcname)
                info.uid = info.gid = 0
                info.uname = info.gname = "root"
                info.mtime = 0
                if info.isfile():
                    with open(path, "rb") as f:
                        tar.addfile(info, f)
                else:
                    tar.addfile(info)


def sha256_file(f):
    f.seek(0)
    h = hashlib.sha256()
    for chunk in iter(lambda: f.read(1 << 20), b""):
        h.update(chunk)
    f.seek(0)
    return h.hexdigest()


def main():
    layers, out, names, entrypoint, cmd = sys.argv[1:6]
    extra = json.loads(sys.argv[6]) if len(sys.argv) > 6 else {}
    blobs = []
    for root in layers.split(":"):
        f = tempfile.TemporaryFile(dir=os.path.dirname(os.path.abspath(out)))
        layer(root, f)
        blobs.append((sha256_file(f), f))
    config_section = {
        "Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
        "Entrypoint": json.loads(entrypoint),
        "Cmd": json.loads(cmd),
        "WorkingDir": "/",
    }
    config_section.update(extra)
    config = {
        "architecture": "amd64",
        "os": "linux",
        "created": "1970-01-01T00:00:00Z",
        "config": config_section,
        "rootfs": {"type": "layers", "diff_ids": ["sha256:" + digest for digest, _ in blobs]},
        "history": [{"created": "1970-01-01T00:00:00Z", "created_by": f"stacklab oci-archive.py ({os.path.basename(r)})"} for r in layers.split(":")],
    }
    config_bytes = json.dumps(config, sort_keys=True).encode()
    config_name = hashlib.sha256(config_bytes).hexdigest() + ".json"
    layer_names = [digest + "/layer.tar" for digest, _ in blobs]
    manifest = json.dumps([{"Config": config_name, "RepoTags": names.split(","), "Layers": layer_names}]).encode()

    def add_bytes(tar, arcname, data):
        info = tarfile.TarInfo(arcname)
        info.size = len(data)
        info.mtime = 0
        tar.addfile(info, io.BytesIO(data))

    with tarfile.open(out, "w") as tar:
        add_bytes(tar, config_name, config_bytes)
        for name, (_, f) in zip(layer_names, blobs):
            info = tarfile.TarInfo(name)
            f.seek(0, os.SEEK_END)
            info.size = f.tell()
            f.seek(0)
            info.mtime = 0
            tar.addfile(info, f)
            f.close()
        add_bytes(tar, "manifest.json", manifest)
    with open(out + ".name", "w") as f:
        f.write(names.split(",")[0] + "\n")


if __name__ == "__main__":
    main()
