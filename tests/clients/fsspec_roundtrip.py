"""fsspec's `webhdfs` filesystem against a real namenode: chunked writes (CREATE, then one
APPEND URL reused for every flushed chunk), ranged reads, listing and removal.
argv: NAMENODE_HTTP_URL."""
import hashlib
import os
import sys
from urllib.parse import urlparse

import fsspec

u = urlparse(sys.argv[1])
fs = fsspec.filesystem("webhdfs", host=u.hostname, port=u.port, user="fsuser", use_https=False)

data = os.urandom(9 * 1024 * 1024 + 17)
with fs.open("/fs/a/data.bin", "wb", block_size=2 * 1024 * 1024) as f:
    for i in range(0, len(data), 1_000_000):
        f.write(data[i:i + 1_000_000])
info = fs.info("/fs/a/data.bin")
assert info["size"] == len(data) and info["type"] == "file", info
with fs.open("/fs/a/data.bin", "rb") as f:
    f.seek(4_000_000)
    assert f.read(2_500_000) == data[4_000_000:6_500_000]
assert hashlib.sha256(fs.cat_file("/fs/a/data.bin")).digest() == hashlib.sha256(data).digest()
assert fs.cat_file("/fs/a/data.bin", start=100, end=200) == data[100:200]
assert fs.exists("/fs/a") and not fs.exists("/fs/nothing")
assert [os.path.basename(p) for p in fs.ls("/fs/a", detail=False)] == ["data.bin"]
fs.mkdir("/fs/b")
fs.mv("/fs/a/data.bin", "/fs/b/moved.bin")
assert fs.info("/fs/b/moved.bin")["size"] == len(data)
assert fs.ukey("/fs/b/moved.bin")
fs.rm("/fs", recursive=True)
assert not fs.exists("/fs")
try:
    fs.info("/fs")
    raise AssertionError("info of a deleted path succeeded")
except FileNotFoundError:
    pass
print("fsspec: ok")
