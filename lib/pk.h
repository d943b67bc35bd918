/*
 * pk.h: the pk library, one header per concept.
 */
#ifndef PK_H
#define PK_H

#include "err.h"	/* error messages */
#include "buf.h"	/* growable buffer, bounded decoder */
#include "io.h"		/* whole reads and writes, crash-safe files */
#include "record.h"	/* the record stream, pk-stream(5) */
#include "entry.h"	/* file metadata in ENTRY records */
#include "chunker.h"	/* FastCDC */
#include "hash.h"	/* chunk ids */
#include "walk.h"	/* the walker behind pk-walk */
#include "scan.h"	/* counting what a walk will write */
#include "origin.h"	/* the WALK record: where and when */
#include "tar.h"	/* pax tar output */
#include "chunkstream.h"	/* the pk-chunk filter */
#include "crypto.h"	/* keys, sealed boxes */
#include "hashfile.h"	/* mmap'd hash files */
#include "storage.h"	/* where a repository lives: a directory, S3 */
#include "repo.h"	/* repository layout */
#include "config.h"	/* a repository's config file */
#include "keyring.h"	/* its keys: passphrases, key files */
#include "blob.h"	/* a blob: its box and its location */
#include "pack.h"	/* pack files: names, writing */
#include "packread.h"	/* pack files: reading */
#include "index.h"	/* index deltas, the chunk index */
#include "snapshot.h"	/* snapshot files */
#include "blobstore.h"	/* putting chunks into a repository */
#include "catwriter.h"	/* writing a snapshot's catalog */
#include "refscope.h"	/* the chunks a stream may refer to */
#include "store.h"	/* the pk-store engine */
#include "catalog.h"	/* reading snapshots */
#include "seektable.h"	/* a catalog's seek table */
#include "fetch.h"	/* a chunk out of a repository */
#include "extract.h"	/* the pk-cat engine */
#include "mount.h"	/* the pk-mount engine */
#include "restore.h"	/* pk-cat -C: a restore into a directory */
#include "fetchpool.h"	/* chunks opened ahead on threads */
#include "workers.h"	/* the threads of a pool */
#include "dedup.h"	/* the pk-dedup filter */
#include "check.h"	/* repository checks */
#include "repairindex.h"	/* re-indexing packs no delta names */
#include "repairsnap.h"	/* snapshots without their damaged files */
#include "diff.h"	/* what changed between two snapshots */
#include "statcache.h"	/* pk-walk's stat cache */
#include "known.h"	/* pk-dedup's known-chunk set */
#include "export.h"	/* caches made from a snapshot */
#include "newest.h"	/* the newest snapshot seen, against rollback */
#include "forget.h"	/* retention policies */
#include "forgetnote.h"	/* the newest snapshot seen, after a forget */
#include "lease.h"	/* leases of running writers and collections */
#include "generation.h"	/* what a collection makes stale */
#include "gcmark.h"	/* pk-gc's marks */
#include "gc.h"		/* giving back unused space */

#endif
