"""A dsm fleet on Spark: a universe's series distributed over the executors, each syncing its
share with the dsm Python package into one cache in a bucket, then one export of the whole
universe into a Parquet dataset in the bucket, read back with Spark SQL.

    python spark_fleet.py --symbols BTCUSDT,ETHUSDT,BNBUSDT --interval 1h \\
        --start 2024-01-01 --end 2024-02-01 \\
        --cache s3://desk/dsm-cache --dataset s3://desk/dsm

Why two prefixes: any number of writers may fill one cache prefix at once (the same candles,
each period one whole PUT), but nothing locks a dataset prefix, and two exporters of one
manifest would drop each other's periods. So the executors write the cache and the driver
alone exports (reading only the cache: no request to the exchange).

The read-back: with hadoop-aws on Spark's classpath, `spark.read.parquet("s3a://...")`
reads the dataset directly. Without it (the pyspark wheel has no S3 filesystem), the Python
data source `dsm_dataset` below lists the dataset from its `_dsm/manifest.json` (only
complete, vouched-for periods) and reads the Parquet files with pyarrow's S3 client in the
executors, the partition columns taken from each file's Hive path. The files read are
chosen by options (symbol, interval, start, end, ...), not by pushed-down filters: in pyspark
4.3.0 a Python data source's pushed-down read is kept on the relation and reused by the
next scan of the same DataFrame (after `df.where("symbol = 'X'")`, `df.count()` counted
X's rows only), so filters stay with Spark, which evaluates them over what is read.

Settings reach the executors explicitly (`env`: the AWS_* variables and any DSM_* endpoint),
not through the environment Spark happened to start with.
"""

import contextlib
import functools
import json
import os
import urllib.parse

from pyspark.sql.datasource import DataSource, DataSourceReader, InputPartition

# The AWS variables the bucket's clients read (dsm's object_store and pyarrow here).
AWS_VARS = ("AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
            "AWS_REGION", "AWS_ALLOW_HTTP")


@contextlib.contextmanager
def environment(env):
    """``env`` set in this process for the block, the previous values restored after."""
    before = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        yield
    finally:
        for k, v in before.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def sync_partition(series, *, provider, market, start, end, cache, env, workers=2):
    """One Spark partition's series ((symbol, interval) pairs) synced into the cache
    ``cache`` with the dsm package: one report dict per series."""
    from pyspark import TaskContext

    series = list(series)
    if not series:
        return
    part = TaskContext.get().partitionId() if TaskContext.get() else None
    by_interval = {}
    for symbol, interval in series:
        by_interval.setdefault(interval, []).append(symbol)
    # Executors are long-lived workers: the settings stay set for this job's tasks.
    os.environ.update(env)
    from dsm import DSMManager

    with DSMManager.create(provider, market, cache_dir=cache) as m:
        for interval, symbols in sorted(by_interval.items()):
            df = m.sync(symbols, start, end, intervals=[interval], workers=workers)
            for row in df.to_dict("records"):
                yield {**row, "partition": part, "pid": os.getpid()}


def run_fleet(spark, symbols, intervals, start, end, *, cache, dataset, env,
              provider="BINANCE", market="SPOT", partitions=None):
    """Sync ``symbols`` x ``intervals`` over ``[start, end)`` on the executors into
    ``cache`` (s3://), then export them from the cache into ``dataset`` (s3://) on the
    driver. Returns {"reports": one per series from the executors, "export": the driver's
    sync rows (all from the cache), "summary": what the export wrote}."""
    spark.sparkContext.addPyFile(os.path.abspath(__file__))  # the executors import this module
    series = [(s, i) for s in symbols for i in intervals]
    n = partitions or min(len(series), spark.sparkContext.defaultParallelism * 2)
    job = functools.partial(sync_partition, provider=provider, market=market, start=start,
                            end=end, cache=cache, env=env)
    reports = spark.sparkContext.parallelize(series, n).mapPartitions(job).collect()
    failed = [r for r in reports if r["error"]]
    if failed:
        raise RuntimeError(f"{len(failed)} series failed: {failed}")
    from dsm import DSMManager

    with environment(env):
        # The cache only: what the executors wrote is all there, nothing is fetched again.
        with DSMManager.create(provider, market, cache_dir=cache, enforce_source="CACHE") as m:
            rows = m.sync(symbols, start, end, intervals=list(intervals), dataset=dataset)
            summary = m.last_export
    return {"reports": reports, "export": rows.to_dict("records"), "summary": summary}


# ---------------------------------------------------------------- the read-back data source


def s3_settings(env):
    """pyarrow S3FileSystem keywords from the AWS_* settings."""
    kw = {"region": env.get("AWS_REGION") or "us-east-1"}
    if env.get("AWS_ACCESS_KEY_ID"):
        kw.update(access_key=env["AWS_ACCESS_KEY_ID"], secret_key=env.get("AWS_SECRET_ACCESS_KEY"),
                  session_token=env.get("AWS_SESSION_TOKEN"))
    endpoint = env.get("AWS_ENDPOINT_URL")
    if endpoint:
        url = urllib.parse.urlsplit(endpoint)
        kw.update(endpoint_override=url.netloc, scheme=url.scheme or "https")
    return kw


def open_fs(settings):
    from pyarrow import fs

    if settings.get("endpoint_override"):
        # Not AWS: the AWS SDK inside pyarrow must not ask the EC2 metadata address
        # (169.254.169.254) for a region or credentials it was given.
        os.environ.setdefault("AWS_EC2_METADATA_DISABLED", "true")
    return fs.S3FileSystem(**settings)


def bucket_path(url):
    """``s3://bucket/prefix`` as pyarrow's ``bucket/prefix``."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme != "s3" or not parts.netloc:
        raise ValueError(f"{url!r}: the dsm_dataset source reads s3://BUCKET/PREFIX")
    return f"{parts.netloc}/{parts.path.strip('/')}".rstrip("/")


def hive_values(file):
    """The partition columns of a dataset file from its Hive path (``k=v/...``), in order."""
    return [tuple(level.split("=", 1)) for level in file.split("/")[:-1] if "=" in level]


ARROW_TO_SPARK = {"timestamp": "timestamp", "double": "double", "int64": "bigint",
                  "int32": "int", "string": "string", "bool": "boolean", "float": "float"}


def spark_type(arrow_type):
    name = str(arrow_type).split("[")[0]
    if name not in ARROW_TO_SPARK:
        raise ValueError(f"dsm_dataset: no Spark type for the Parquet column type {arrow_type}")
    return ARROW_TO_SPARK[name]


class DsmDataset(DataSource):
    """``spark.read.format("dsm_dataset").load("s3://BUCKET/PREFIX")``: one kind of a dsm
    dataset (option ``kind``, default klines). The files read are chosen by options, not by
    pushed-down filters: ``symbol``, ``interval``, ``market``, ``provider`` (comma-separated
    lists) and ``start`` / ``end`` (UTC dates: the periods overlapping ``[start, end)``).
    Options ``endpoint``, ``access_key``, ``secret_key``, ``region`` override the worker's
    AWS_* variables."""

    @classmethod
    def name(cls):
        return "dsm_dataset"

    def _settings(self):
        o = self.options
        env = {k: v for k, v in os.environ.items() if k in AWS_VARS}  # this worker's
        for option, var in (("endpoint", "AWS_ENDPOINT_URL"), ("access_key", "AWS_ACCESS_KEY_ID"),
                            ("secret_key", "AWS_SECRET_ACCESS_KEY"), ("region", "AWS_REGION")):
            if o.get(option):
                env[var] = o[option]
        return s3_settings(env)

    def _files(self):
        """(file, bytes) of every period of the kind the manifest lists."""
        if not hasattr(self, "_listed"):
            root = bucket_path(self.options["path"])
            fs = open_fs(self._settings())
            with fs.open_input_stream(f"{root}/_dsm/manifest.json") as f:
                manifest = json.loads(f.read())
            if manifest.get("format") != "dsm-dataset":
                raise ValueError(f"{self.options['path']}: _dsm/manifest.json is not a dsm dataset manifest")
            kind = self.options.get("kind", "klines")
            self._listed = [(p["file"], p["bytes"]) for s in manifest["series"] if s["kind"] == kind
                            and self._wanted(s) for p in s["periods"] if self._in_range(p)]
            if not self._listed:
                raise ValueError(f"{self.options['path']}: the dataset holds no {kind} the options select")
        return self._listed

    def _wanted(self, series):
        """Whether the options ``provider``, ``market``, ``symbol``, ``interval`` (each a
        comma-separated list) keep the manifest's ``series``."""
        for column in ("provider", "market", "symbol", "interval"):
            given = self.options.get(column)
            if given and series[column] not in given.split(","):
                return False
        return True

    def _in_range(self, period):
        """Whether the period overlaps the options' ``[start, end)`` (UTC dates)."""
        import datetime

        def ms(option):
            day = datetime.date.fromisoformat(self.options[option])
            return int(datetime.datetime(day.year, day.month, day.day, tzinfo=datetime.timezone.utc).timestamp() * 1000)

        return ((not self.options.get("start") or period["end_ms"] > ms("start"))
                and (not self.options.get("end") or period["start_ms"] < ms("end")))

    def schema(self):
        import pyarrow.parquet as pq

        root = bucket_path(self.options["path"])
        first = self._files()[0][0]
        columns = pq.read_schema(f"{root}/{first}", filesystem=open_fs(self._settings()))
        fields = [f"`{f.name}` {spark_type(f.type)}" for f in columns]
        fields += [f"`{k}` {'date' if k == 'date' else 'string'}" for k, _ in hive_values(first)]
        return ", ".join(fields)

    def reader(self, schema):
        return DsmDatasetReader(bucket_path(self.options["path"]), self._files(), self._settings(),
                                [f.name for f in schema.fields])


class DsmDatasetReader(DataSourceReader):
    """One input partition per file (those the options kept)."""

    def __init__(self, root, files, settings, columns):
        self.root, self.files, self.settings, self.columns = root, files, settings, columns

    def partitions(self):
        return [InputPartition(f) for f in self.files]

    def read(self, partition):
        import datetime

        import pyarrow as pa
        import pyarrow.parquet as pq

        file, size = partition.value
        fs = open_fs(self.settings)
        with fs.open_input_file(f"{self.root}/{file}") as f:
            if f.size() != size:
                raise ValueError(f"dsm_dataset: {file} is {f.size()} bytes, the manifest says {size}: "
                                 "not the file dsm wrote (export again)")
            table = pq.read_table(f)
        n = table.num_rows
        for key, value in hive_values(file):
            if key == "date":
                table = table.append_column(key, pa.array([datetime.date.fromisoformat(value)] * n, pa.date32()))
            else:
                table = table.append_column(key, pa.array([value] * n, pa.string()))
        table = table.select(self.columns)
        # As Spark's schema states it: every column nullable, timestamps in microseconds.
        spark_schema = pa.schema([pa.field(f.name, pa.timestamp("us", tz="UTC") if pa.types.is_timestamp(f.type)
                                           else f.type, nullable=True) for f in table.schema])
        yield from table.cast(spark_schema).to_batches()


def read_dataset(spark, url, env=None, **options):
    """The dataset at ``url`` (s3://) as a DataFrame through the ``dsm_dataset`` source.
    The bucket's settings: ``env``'s AWS_* variables (else the driver's), then ``options``.
    They travel as options: the data source runs in Python workers whose environment is
    the one Spark started with."""
    spark.sparkContext.addPyFile(os.path.abspath(__file__))
    spark.dataSource.register(DsmDataset)
    env = {k: v for k, v in (os.environ if env is None else env).items() if k in AWS_VARS}
    given = {"endpoint": env.get("AWS_ENDPOINT_URL"), "access_key": env.get("AWS_ACCESS_KEY_ID"),
             "secret_key": env.get("AWS_SECRET_ACCESS_KEY"), "region": env.get("AWS_REGION")}
    reader = spark.read.format("dsm_dataset")
    for k, v in {**given, **options}.items():
        if v is not None:
            reader = reader.option(k, v)
    return reader.load(url)


PER_SYMBOL = """SELECT symbol, interval, count(*) AS candles, min(open_time) AS first_open,
                       max(open_time) AS last_open
                FROM klines GROUP BY symbol, interval ORDER BY symbol, interval"""


def main():
    import argparse

    from pyspark.sql import SparkSession

    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--symbols", required=True, help="comma-separated, e.g. BTCUSDT,ETHUSDT")
    p.add_argument("--interval", default="1h", help="comma-separated intervals (default 1h)")
    p.add_argument("--start", required=True)
    p.add_argument("--end", required=True)
    p.add_argument("--cache", required=True, help="s3://BUCKET/PREFIX the executors sync into")
    p.add_argument("--dataset", required=True, help="s3://BUCKET/PREFIX the driver exports into")
    p.add_argument("--provider", default="BINANCE")
    p.add_argument("--market", default="SPOT")
    a = p.parse_args()
    spark = SparkSession.builder.appName("dsm-fleet").getOrCreate()
    env = {k: v for k, v in os.environ.items() if k in AWS_VARS or k.startswith("DSM_")}
    out = run_fleet(spark, a.symbols.split(","), a.interval.split(","), a.start, a.end,
                    cache=a.cache, dataset=a.dataset, env=env, provider=a.provider, market=a.market)
    print(f"{len(out['reports'])} series synced; export: {out['summary']}")
    read_dataset(spark, a.dataset, env).createOrReplaceTempView("klines")
    spark.sql(PER_SYMBOL).show(truncate=False)
    spark.stop()


if __name__ == "__main__":
    main()
