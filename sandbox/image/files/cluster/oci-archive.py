#!/usr/bin/python3
"""oci-archive.py ROOT OUT NAME ENTRYPOINT CMD: packs the folder ROOT as a one-layer image in
docker-archive form (what `docker save` writes and `ctr images import` reads), named NAME;
ENTRYPOINT and CMD are JSON (a list, or null). Deterministic: same input, same image id."""

import hashlib
import io
import json
import os
import sys
import tarfile


def layer(root):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for dirpath, dirnames, filenames in os.walk(root):
            dirnames.sort()
            for name in sorted(dirnames) + sorted(filenames):
                path = os.path.join(dirpath, name)
                info = tar.gettarinfo(path, arcname=os.path.relpath(path, root))
                info.uid = info.gid = 0
                info.uname = info.gname = "root"
                info.mtime = 0
                if info.isfile():
                    with open(path, "rb") as f:
                        tar.addfile(info, f)
                else:
                    tar.addfile(info)
    return buf.getvalue()


def main():
    root, out, name, entrypoint, cmd = sys.argv[1:6]
    blob = layer(root)
    diff_id = "sha256:" + hashlib.sha256(blob).hexdigest()
    config = {
        "architecture": "amd64",
        "os": "linux",
        "created": "1970-01-01T00:00:00Z",
        "config": {
            "Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
            "Entrypoint": json.loads(entrypoint),
            "Cmd": json.loads(cmd),
            "WorkingDir": "/",
        },
        "rootfs": {"type": "layers", "diff_ids": [diff_id]},
        "history": [{"created": "1970-01-01T00:00:00Z", "created_by": "stacklab oci-archive.py"}],
    }
    config_bytes = json.dumps(config, sort_keys=True).encode()
    config_name = hashlib.sha256(config_bytes).hexdigest() + ".json"
    layer_name = diff_id[7:] + "/layer.tar"
    manifest = json.dumps([{"Config": config_name, "RepoTags": [name], "Layers": [layer_name]}]).encode()
    with tarfile.open(out, "w") as tar:
        for arcname, data in [(config_name, config_bytes), (layer_name, blob), ("manifest.json", manifest)]:
            info = tarfile.TarInfo(arcname)
            info.size = len(data)
            info.mtime = 0
            tar.addfile(info, io.BytesIO(data))
    with open(out + ".name", "w") as f:
        f.write(name + "\n")


if __name__ == "__main__":
    main()
