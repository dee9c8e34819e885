"""Password and ACL files for the auth tests: password files are made by
Debian's mosquitto_passwd (the tool Mosquitto users have), ACL files are
plain text in Mosquitto's syntax."""

import os
import subprocess

MOSQUITTO_PASSWD = "/usr/bin/mosquitto_passwd"


def mosquitto_password_file(path, users):
    """users: dict name -> password. Returns path."""
    first = True
    for name, password in users.items():
        cmd = [MOSQUITTO_PASSWD] + (["-c"] if first else []) + ["-b", str(path), name, password]
        r = subprocess.run(cmd, capture_output=True, timeout=20)
        assert r.returncode == 0, "mosquitto_passwd failed: %s" % r.stderr
        first = False
    return str(path)


def write_acl(path, text):
    tmp = str(path) + ".tmp"
    with open(tmp, "w") as f:
        f.write(text)
    os.replace(tmp, str(path))  # a reload never sees half a file
    return str(path)


def auth_yaml(password_file=None, acl_file=None, deny_publish_v3=None):
    keys = []
    if password_file:
        keys.append("password_file: %s" % password_file)
    if acl_file:
        keys.append("acl_file: %s" % acl_file)
    if deny_publish_v3:
        keys.append("deny_publish_v3: %s" % deny_publish_v3)
    return "auth: {%s}\n" % ", ".join(keys)
