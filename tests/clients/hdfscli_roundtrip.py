"""HdfsCLI (PyPI `hdfs`) against a real namenode: a tree of files up and down, every file
checked by SHA-256, and the metadata calls its users make. argv: NAMENODE_HTTP_URL WORKDIR."""
import hashlib
import os
import sys

from hdfs import InsecureClient
from hdfs.util import HdfsError

nn, work = sys.argv[1], sys.argv[2]
client = InsecureClient(nn, user="pyuser")

sizes = {"empty.bin": 0, "sub/one.bin": 1, "mib1.bin": (1 << 20) + 1, "big.bin": 40 << 20}
src = os.path.join(work, "src")
os.makedirs(os.path.join(src, "sub"))
digests = {}
for rel, size in sizes.items():
    data = os.urandom(size)
    with open(os.path.join(src, rel), "wb") as f:
        f.write(data)
    digests[rel] = hashlib.sha256(data).hexdigest()

client.makedirs("/py", permission="755")
client.upload("/py/tree", src, n_threads=1)
# Overwriting an existing file goes through a temporary name, DELETE and RENAME.
client.upload("/py/tree/sub/one.bin", os.path.join(src, "sub", "one.bin"), overwrite=True)

names = sorted(client.list("/py/tree"))
assert names == ["big.bin", "empty.bin", "mib1.bin", "sub"], names
status = client.status("/py/tree/big.bin")
assert status["length"] == 40 << 20 and status["type"] == "FILE", status
assert status["owner"] == "pyuser", status
assert client.status("/py/nothing", strict=False) is None
content = client.content("/py/tree")
assert content["fileCount"] == 4 and content["length"] == sum(sizes.values()), content
walked = sorted(os.path.join(dpath, f) for dpath, _, files in client.walk("/py/tree") for f in files)
assert walked == sorted(f"/py/tree/{rel}" for rel in digests), walked

dst = os.path.join(work, "dst")
client.download("/py/tree", dst, n_threads=1)
for rel, digest in digests.items():
    with open(os.path.join(dst, rel), "rb") as f:
        got = hashlib.sha256(f.read()).hexdigest()
    assert got == digest, f"{rel}: sha256 differs"

# Ranged reads.
with open(os.path.join(src, "big.bin"), "rb") as f:
    f.seek(5_000_000)
    want = f.read(3_000_000)
with client.read("/py/tree/big.bin", offset=5_000_000, length=3_000_000) as r:
    assert r.read() == want
with client.read("/py/tree/sub/one.bin") as r:
    assert len(r.read()) == 1

# Writes from Python data, appends.
client.write("/py/notes.txt", data=b"hello ", overwrite=True)
client.write("/py/notes.txt", data=b"world", append=True)
with client.read("/py/notes.txt") as r:
    assert r.read() == b"hello world"

ck = client.checksum("/py/tree/big.bin")
assert ck["algorithm"] and ck["bytes"], ck
client.set_replication("/py/tree/big.bin", 2)
assert client.status("/py/tree/big.bin")["replication"] == 2
client.set_permission("/py/notes.txt", "600")
assert client.status("/py/notes.txt")["permission"] == "600"
client.rename("/py/notes.txt", "/py/tree")  # into the directory, as Hadoop's rename does
assert client.status("/py/tree/notes.txt")["length"] == 11
assert client.delete("/py/tree/notes.txt") is True
assert client.delete("/py/tree/notes.txt") is False
try:
    client.delete("/py/tree")
    raise AssertionError("a non-empty directory was deleted without recursive")
except HdfsError as e:
    assert "non empty" in str(e) or "not empty" in str(e), e
try:
    client.status("/py/missing")
    raise AssertionError("status of a missing path succeeded")
except HdfsError as e:
    assert "does not exist" in str(e), e
assert client.resolve("rel") == "/user/pyuser/rel"
print("hdfscli: ok")
