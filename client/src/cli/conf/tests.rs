use super::*;

fn doc(props: &str) -> String {
    format!("<?xml version=\"1.0\"?>\n<configuration>\n{props}\n</configuration>\n")
}

fn prop(name: &str, value: &str) -> String {
    format!("  <property>\n    <name>{name}</name>\n    <value>{value}</value>\n  </property>\n")
}

fn conf(files: &[(&str, &str)]) -> Configuration {
    let mut c = Configuration::default();
    for (name, text) in files {
        c.add_xml(name, text).unwrap();
    }
    c
}

fn env(var: &str) -> Option<String> {
    match var {
        "NN_HOST" => Some("nn.example".into()),
        "EMPTY" => Some(String::new()),
        _ => None,
    }
}

fn get(c: &Configuration, key: &str) -> Option<String> {
    c.get_with(key, &env).unwrap()
}

#[test]
fn reads_properties_with_entities_comments_and_descriptions() {
    let text = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<?xml-stylesheet type=\"text/xsl\" href=\"configuration.xsl\"?>\n\
         <!-- Licensed to the Apache Software Foundation -->\n<configuration>\n  <property>\n    <!-- why -->\n    \
         <name> a.b </name>\n    <value>x &amp; y &lt;z&gt; &quot;q&quot; &apos;s&apos;</value>\n    \
         <description>People &amp; notes</description>\n  </property>\n  <property name=\"attr.form\" \
         value=\"1\"/>\n{}{}  <property><value>no name</value></property>\n</configuration>\n",
        prop("spaces", "  kept  "),
        prop("empty", "")
    );
    let c = conf(&[("core-site.xml", &text)]);
    assert_eq!(get(&c, "a.b").as_deref(), Some("x & y <z> \"q\" 's'"));
    assert_eq!(get(&c, "attr.form").as_deref(), Some("1"));
    assert_eq!(get(&c, "spaces").as_deref(), Some("  kept  "));
    assert_eq!(c.get_trimmed("spaces").unwrap().as_deref(), Some("kept"));
    assert_eq!(get(&c, "empty").as_deref(), Some(""));
    assert_eq!(get(&c, "missing"), None);
}

#[test]
fn later_files_override_except_final_and_d_overrides_all() {
    let core = doc(&format!(
        "{}{}  <property><name>locked</name><value>core</value><final>true</final></property>\n",
        prop("dfs.replication", "3"),
        prop("fs.default.name", "hdfs://old:9000")
    ));
    let hdfs = doc(&format!("{}{}", prop("dfs.replication", "2"), prop("locked", "hdfs")));
    let mut c = conf(&[("core-site.xml", &core), ("hdfs-site.xml", &hdfs)]);
    assert_eq!(c.replication().unwrap(), Some(2));
    assert_eq!(get(&c, "locked").as_deref(), Some("core"));
    // The old name is read as the new one, from files and -D alike.
    assert_eq!(get(&c, "fs.defaultFS").as_deref(), Some("hdfs://old:9000"));
    assert_eq!(c.default_fs_url().unwrap().as_deref(), Some("http://old:9000"));
    c.set("locked", "cli");
    c.set("dfs.block.size", "1m");
    assert_eq!(get(&c, "locked").as_deref(), Some("cli"));
    assert_eq!(c.block_size().unwrap(), Some(1 << 20));
}

#[test]
fn expands_variables_as_hadoop_does() {
    let c = conf(&[(
        "core-site.xml",
        &doc(&[
            prop("base", "/data"),
            prop("dir", "${base}/nn"),
            prop("deeper", "${dir}/current and ${base}"),
            prop("host", "${env.NN_HOST}"),
            prop("fallback", "${env.NOT_SET:-localhost}:${env.EMPTY:-9}:${env.EMPTY-none}"),
            prop("unbound", "${nope}/x/${base}"),
            prop("self", "a${self}"),
            prop("ping", "${pong}"),
            prop("pong", "${ping}"),
            prop("not.vars", "$base ${} ${a b} $${base}"),
        ]
        .concat()),
    )]);
    assert_eq!(get(&c, "deeper").as_deref(), Some("/data/nn/current and /data"));
    assert_eq!(get(&c, "host").as_deref(), Some("nn.example"));
    assert_eq!(get(&c, "fallback").as_deref(), Some("localhost:9:"));
    // An unbound variable stops the expansion there, as in Hadoop.
    assert_eq!(get(&c, "unbound").as_deref(), Some("${nope}/x/${base}"));
    assert_eq!(get(&c, "self").as_deref(), Some("a${self}"));
    assert_eq!(get(&c, "not.vars").as_deref(), Some("$base ${} ${a b} $/data"));
    let cycle = c.get_with("ping", &env).unwrap_err().to_string();
    assert_eq!(cycle, "core-site.xml: ping=${pong}: variable substitution depth too large: 20 (a cycle?)");
}

#[test]
fn block_sizes_in_hadoops_forms() {
    assert_eq!(parse_block_size("134217728"), Ok(134217728));
    assert_eq!(parse_block_size(" 128m "), Ok(128 << 20));
    assert_eq!(parse_block_size("128M"), Ok(128 << 20));
    assert_eq!(parse_block_size("1g"), Ok(1 << 30));
    assert_eq!(parse_block_size("64k"), Ok(64 << 10));
    assert_eq!(parse_block_size("2T"), Ok(2 << 40));
    assert_eq!(parse_block_size("1p"), Ok(1 << 50));
    assert_eq!(parse_block_size("1E"), Ok(1 << 60));
    assert_eq!(parse_block_size("64MiB"), Ok(64 << 20));
    assert_eq!(parse_block_size("8e").unwrap_err(), "8e does not fit in a Long");
    assert_eq!(
        parse_block_size("12q").unwrap_err(),
        "Invalid size prefix 'q' in '12q'. Allowed prefixes are k, m, g, t, p, e(case insensitive)"
    );
    assert!(parse_block_size("m").is_err());
    assert!(parse_block_size("0").is_err());
    assert!(parse_block_size("").is_err());
}

#[test]
fn bad_values_name_their_file_and_key() {
    let c = conf(&[(
        "/etc/hadoop/hdfs-site.xml",
        &doc(&[prop("dfs.replication", "two"), prop("dfs.blocksize", "12q")].concat()),
    )]);
    assert_eq!(
        c.replication().unwrap_err().to_string(),
        "/etc/hadoop/hdfs-site.xml: dfs.replication=two: not a replication factor (a whole number from 1)"
    );
    assert!(c.block_size().unwrap_err().to_string().starts_with("/etc/hadoop/hdfs-site.xml: dfs.blocksize=12q: "));
}

#[test]
fn nameservices_resolve_to_their_members() {
    let hdfs = doc(&[
        prop("fs.defaultFS", "hdfs://mycluster"),
        prop("dfs.nameservices", "mycluster, single ,broken"),
        prop("dfs.ha.namenodes.mycluster", "nn1, nn2,nn3"),
        prop("dfs.namenode.rpc-address.mycluster.nn1", "${nn.host}:8020"),
        prop("dfs.namenode.rpc-address.mycluster.nn2", "b.example:8021"),
        prop("dfs.namenode.rpc-address.mycluster.nn3", "c.example"),
        prop("nn.host", "a.example"),
        prop("dfs.namenode.rpc-address.single", "s.example:9000"),
    ]
    .concat());
    let mut c = conf(&[("hdfs-site.xml", &hdfs)]);
    let all = "http://a.example:8020,http://b.example:8021,http://c.example:8020";
    assert_eq!(c.default_fs_url().unwrap().as_deref(), Some(all));
    assert_eq!(
        c.nameservices(),
        [("mycluster".to_string(), all.to_string()), ("single".to_string(), "http://s.example:9000".to_string())]
    );
    c.set("fs.defaultFS", "hdfs://broken/");
    let e = c.default_fs_url().unwrap_err().to_string();
    assert!(e.contains("nameservice broken has no namenodes"), "{e}");
    c.set("fs.defaultFS", "hdfs://mycluster:8020");
    assert!(c.default_fs_url().unwrap_err().to_string().contains("takes no port"));
    c.set("fs.defaultFS", "hdfs://plain.host/");
    assert_eq!(c.default_fs_url().unwrap().as_deref(), Some("http://plain.host:8020"));
    c.set("fs.defaultFS", "host2:9000");
    assert_eq!(c.default_fs_url().unwrap().as_deref(), Some("http://host2:9000"));
    c.set("fs.defaultFS", "file:///");
    assert_eq!(
        c.default_fs_url().unwrap_err().to_string(),
        "-D: fs.defaultFS=file:///: only hdfs:// file systems are served here, not file://"
    );
    c.set("dfs.ha.namenodes.mycluster", "nn1,nn4");
    c.set("fs.defaultFS", "hdfs://mycluster");
    assert_eq!(
        c.default_fs_url().unwrap_err().to_string(),
        "-D: dfs.ha.namenodes.mycluster=nn1,nn4: dfs.namenode.rpc-address.mycluster.nn4 is not set"
    );
}

#[test]
fn malformed_files_say_file_line_and_what() {
    let mut c = Configuration::default();
    let e = c.add_xml("/c/core-site.xml", "<configuration>\n  <property>\n    <name>a</value>\n").unwrap_err();
    assert_eq!(e.to_string(), "/c/core-site.xml:3:12: </value> closes <name>");
    let e = c.add_xml("/c/core-site.xml", "<conf/>").unwrap_err();
    assert_eq!(e.to_string(), "/c/core-site.xml:1:1: the root element is <conf>, not <configuration>");
    let e = c.add_xml("x.xml", "<configuration>\n<xi:include href=\"a.xml\"/></configuration>").unwrap_err();
    assert_eq!(e.to_string(), "x.xml:2:1: <xi:include> is not supported (copy the included properties in)");
}

#[test]
fn missing_files_add_nothing_and_unreadable_ones_are_said() {
    let dir = tempfile::tempdir().unwrap();
    let mut c = Configuration::default();
    c.add_file(&dir.path().join("core-site.xml")).unwrap();
    assert!(c.props.is_empty());
    std::fs::write(dir.path().join("bad.xml"), b"<configuration>\xff</configuration>").unwrap();
    let e = c.add_file(&dir.path().join("bad.xml")).unwrap_err().to_string();
    assert!(e.ends_with("bad.xml:1:16: not UTF-8"), "{e}");
    let e = c.add_file(dir.path()).unwrap_err().to_string();
    assert!(e.contains(": cannot read: "), "{e}");
}
