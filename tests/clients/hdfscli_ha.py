"""HdfsCLI given a namenode group (`http://nn1;http://nn2`): a follower answers 403
StandbyException and the client moves on to the next URL. argv: URLS (';'-separated)."""
import sys

from hdfs import InsecureClient

client = InsecureClient(sys.argv[1], user="hauser")
client.write("/ha/file.txt", data=b"through the leader", overwrite=True)
with client.read("/ha/file.txt") as r:
    assert r.read() == b"through the leader"
assert client.list("/ha") == ["file.txt"]
print("hdfscli ha: ok")
