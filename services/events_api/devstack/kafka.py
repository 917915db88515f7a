"""Apache Kafka in KRaft mode from Maven Central's jars: resolved once per version, started per use.

The broker is one process acting as broker and controller, listening on 127.0.0.1 only, with
replication factors of 1 so a single node can host the internal topics.
"""

import base64
import os
import shutil
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from events_api.devstack.cache import cache_root
from events_api.devstack.errors import ToolMissing
from events_api.devstack.locking import exclusive_lock
from events_api.devstack.ports import accepts_connections, free_port
from events_api.devstack.processes import ManagedProcess, run_tool

KAFKA_VERSION = "4.1.1"
SCALA_VERSION = "2.13"
# Kafka 4.x logs through SLF4J 1.7: this binding (not the slf4j2 one) routes it to log4j 2.
LOG4J_VERSION = "2.25.3"
_READY_LINE = "Kafka Server started"
_COMPLETE_MARKER = ".complete"

Progress = Callable[[str], None]

_POM = """<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>dev.pipeline-events</groupId>
  <artifactId>kafka-runtime</artifactId>
  <version>1</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency>
      <groupId>org.apache.kafka</groupId>
      <artifactId>kafka_{scala}</artifactId>
      <version>{kafka}</version>
    </dependency>
    <dependency>
      <groupId>org.apache.logging.log4j</groupId>
      <artifactId>log4j-slf4j-impl</artifactId>
      <version>{log4j}</version>
    </dependency>
  </dependencies>
</project>
"""

_LOG4J2 = """status = warn
appender.console.type = Console
appender.console.name = STDOUT
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = {level}
rootLogger.appenderRef.stdout.ref = STDOUT
# The ready line comes from this logger; keep it at info whatever the root level.
logger.raft.name = kafka.server.KafkaRaftServer
logger.raft.level = info
"""


def _ignore(_: str) -> None:
    """A progress sink that says nothing."""


def java_executable() -> str:
    """The `java` of `$JAVA_HOME`, else the one on PATH.

    Raises:
        ToolMissing: no Java is installed.
    """
    java_home = os.environ.get("JAVA_HOME")
    if java_home and (Path(java_home) / "bin" / "java").exists():
        return str(Path(java_home) / "bin" / "java")
    found = shutil.which("java")
    if found is None:
        raise ToolMissing(
            "Kafka needs Java 17 or newer: install it (Debian: apt-get install "
            "openjdk-17-jre-headless) or set JAVA_HOME"
        )
    return found


def ensure_kafka_jars(*, cache: Path | None = None, progress: Progress = _ignore) -> Path:
    """The folder of Kafka's runtime jars, resolved from Maven Central on first use.

    Keyed by the Kafka and log4j versions; a completed folder is reused without running Maven.

    Raises:
        ToolMissing: Maven is not installed.
        ProvisioningFailed: Maven could not resolve the jars.
    """
    home = (cache or cache_root()) / "kafka" / f"{KAFKA_VERSION}-log4j{LOG4J_VERSION}"
    libs = home / "libs"
    if (libs / _COMPLETE_MARKER).exists():
        return libs
    home.mkdir(parents=True, exist_ok=True)
    with exclusive_lock(home / ".lock"):
        if (libs / _COMPLETE_MARKER).exists():
            return libs
        mvn = shutil.which("mvn")
        if mvn is None:
            raise ToolMissing(
                "resolving Kafka's jars needs Maven: install it (Debian: apt-get install maven)"
            )
        progress(f"Resolving Apache Kafka {KAFKA_VERSION} from Maven Central (first run only)…")
        partial = home / "libs.partial"
        shutil.rmtree(partial, ignore_errors=True)
        (home / "pom.xml").write_text(
            _POM.format(scala=SCALA_VERSION, kafka=KAFKA_VERSION, log4j=LOG4J_VERSION)
        )
        run_tool(
            [
                mvn,
                "-B",
                "-q",
                "-f",
                str(home / "pom.xml"),
                "dependency:copy-dependencies",
                "-DincludeScope=runtime",
                f"-DoutputDirectory={partial}",
            ],
            what=f"resolving Kafka {KAFKA_VERSION} with Maven",
            log_path=home / "mvn.log",
            timeout=900,
        )
        (partial / _COMPLETE_MARKER).write_text(f"kafka {KAFKA_VERSION}\n")
        shutil.rmtree(libs, ignore_errors=True)
        partial.rename(libs)
        progress(f"Kafka {KAFKA_VERSION} cached in {libs}")
    return libs


def new_cluster_id() -> str:
    """A KRaft cluster id: 16 random bytes, URL-safe base64 without padding (as Kafka makes them).

    Kafka avoids ids that start with '-' (they read as command-line flags); so do we.
    """
    while True:
        cluster_id = base64.urlsafe_b64encode(uuid.uuid4().bytes).rstrip(b"=").decode()
        if not cluster_id.startswith("-"):
            return cluster_id


def server_properties(*, port: int, controller_port: int, log_dir: Path) -> str:
    """A single-node KRaft configuration (broker and controller) on 127.0.0.1."""
    settings = {
        "process.roles": "broker,controller",
        "node.id": "1",
        "controller.quorum.bootstrap.servers": f"127.0.0.1:{controller_port}",
        "listeners": f"PLAINTEXT://127.0.0.1:{port},CONTROLLER://127.0.0.1:{controller_port}",
        "advertised.listeners": (
            f"PLAINTEXT://127.0.0.1:{port},CONTROLLER://127.0.0.1:{controller_port}"
        ),
        "controller.listener.names": "CONTROLLER",
        "inter.broker.listener.name": "PLAINTEXT",
        "listener.security.protocol.map": "CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
        "log.dirs": str(log_dir),
        "num.partitions": "1",
        "offsets.topic.replication.factor": "1",
        "offsets.topic.num.partitions": "4",
        "transaction.state.log.replication.factor": "1",
        "transaction.state.log.min.isr": "1",
        "share.coordinator.state.topic.replication.factor": "1",
        "share.coordinator.state.topic.min.isr": "1",
        "group.initial.rebalance.delay.ms": "0",
        "auto.create.topics.enable": "true",
    }
    return "".join(f"{key}={value}\n" for key, value in settings.items())


@dataclass
class KafkaServer:
    """A running single-node broker; `stop()` ends it (safe to call twice)."""

    bootstrap_servers: str
    port: int
    controller_port: int
    workdir: Path
    process: ManagedProcess

    def stop(self) -> None:
        """Stop the broker by PID (a controlled shutdown, then SIGKILL after a deadline)."""
        self.process.stop()

    def __enter__(self) -> "KafkaServer":
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()


def start_kafka(
    *,
    workdir: Path,
    cache: Path | None = None,
    start_timeout: float = 120.0,
    heap: str = "512m",
    log_level: str = "WARN",
    progress: Progress = _ignore,
) -> KafkaServer:
    """Format a fresh KRaft log folder under `workdir` and start a broker on free ports.

    Raises:
        ToolMissing: Java or Maven is missing.
        ProvisioningFailed: the jars could not be resolved, or the broker exited while starting.
        StartTimeout: the broker did not report ready within `start_timeout` seconds.
    """
    java = java_executable()
    libs = ensure_kafka_jars(cache=cache, progress=progress)
    workdir.mkdir(parents=True, exist_ok=True)
    port, controller_port = free_port(), free_port()
    config = workdir / "server.properties"
    config.write_text(
        server_properties(port=port, controller_port=controller_port, log_dir=workdir / "data")
    )
    log_config = workdir / "log4j2.properties"
    log_config.write_text(_LOG4J2.format(level=log_level))
    jvm = [
        java,
        f"-Dlog4j2.configurationFile={log_config}",
        "-cp",
        f"{libs}/*",
    ]
    run_tool(
        [
            *jvm,
            "kafka.tools.StorageTool",
            "format",
            "--standalone",
            "--cluster-id",
            new_cluster_id(),
            "--config",
            str(config),
        ],
        what="formatting Kafka's log folder",
        log_path=workdir / "format.log",
        timeout=120,
    )
    log_path = workdir / "kafka.log"
    process = ManagedProcess(
        f"Kafka {KAFKA_VERSION}",
        [
            jvm[0],
            f"-Xmx{heap}",
            "-XX:+UseSerialGC",
            "-Djava.awt.headless=true",
            *jvm[1:],
            "kafka.Kafka",
            str(config),
        ],
        log_path=log_path,
    )
    progress(f"Starting Kafka {KAFKA_VERSION} on 127.0.0.1:{port}…")
    process.start()

    def is_ready() -> bool:
        return _READY_LINE in log_path.read_text(errors="replace") and accepts_connections(port)

    process.wait_until_ready(is_ready, timeout=start_timeout)
    return KafkaServer(
        bootstrap_servers=f"127.0.0.1:{port}",
        port=port,
        controller_port=controller_port,
        workdir=workdir,
        process=process,
    )
