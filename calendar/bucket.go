package calendar

import "time"

// DefaultBucket is the default _request_time_bucket, in minutes.
const DefaultBucket = 5

// ValidBucket reports whether minutes is a _request_time_bucket the original
// system accepts (5, 10, 15, 20, 30, 60, 120). All of them divide a day, so a
// bucket grid restarts identically at every local midnight.
func ValidBucket(minutes int) bool {
	switch minutes {
	case 5, 10, 15, 20, 30, 60, 120:
		return true
	}
	return false
}

// BucketStart returns the start of the time slot (bucket) of the given length
// that contains t, in UTC. Slots follow the local clock of loc (the office's
// zone): a slot boundary is every instant at which the local clock shows a
// multiple of the bucket length since midnight, plus every UTC offset change.
// So 60-minute slots start on local full hours even where the offset is
// +05:30 or +05:45, and on a daylight-saving day the slot that the change
// cuts is shorter or longer in real time (see the package doc). An invalid
// length is read as DefaultBucket.
func BucketStart(t time.Time, minutes int, loc *time.Location) time.Time {
	r := newResolver(loc)
	return fromUnix(bucketStartUnix(r, unixFloor(t), bucketSeconds(minutes)))
}

// BucketEnd returns the end of the slot that starts at bucketStart (the next
// slot boundary after it), under the same rules as BucketStart.
func BucketEnd(bucketStart time.Time, minutes int, loc *time.Location) time.Time {
	r := newResolver(loc)
	return fromUnix(nextBoundary(r, unixFloor(bucketStart), bucketSeconds(minutes)))
}

func bucketSeconds(minutes int) int64 {
	if !ValidBucket(minutes) {
		minutes = DefaultBucket
	}
	return int64(minutes) * 60
}

// bucketStartUnix returns the last slot boundary at or before u.
func bucketStartUnix(r *resolver, u, size int64) int64 {
	z := r.zone(u)
	start := u - floorMod(u+z.off, size)
	return max(start, z.start)
}

// nextBoundary returns the first slot boundary strictly after u.
func nextBoundary(r *resolver, u, size int64) int64 {
	z := r.zone(u)
	next := u + size - floorMod(u+z.off, size)
	return min(next, z.end)
}
