package mongoauth

// SetTestHookAfterScan sets a function that Repair runs between its scan
// and its orphan grace period, until the test ends.
func SetTestHookAfterScan(cleanup func(func()), hook func()) {
	testHookAfterScan = hook
	cleanup(func() { testHookAfterScan = nil })
}
