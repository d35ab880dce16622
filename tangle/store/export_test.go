package store

import bolt "go.etcd.io/bbolt"

// CorruptForTest adds an address index entry for no transaction.
func CorruptForTest(db *bolt.DB) error {
	return db.Update(func(tx *bolt.Tx) error {
		return root(tx).Bucket([]byte{byte(ByAddress)}).Put(make([]byte, 2*HashBytes), nil)
	})
}
