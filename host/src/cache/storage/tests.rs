//! What every backend must do, run against each: the file system and a real S3 server.
