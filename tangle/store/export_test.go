package store

import bolt "go.etcd.io/bbolt"

// CorruptForTest adds an address index entry for no transaction.
func CorruptForTest(db *bolt.DB) error {
	return db.Update(func(tx *bolt.Tx) error {
		return root(tx).Bucket([]byte{byte(ByAddress)}).Put(make([]byte, ixKeyLen), nil)
	})
}

// NewWithEpochBits is [New] for a new database with 2^bits transactions per
// index epoch, so that small tests cross many epochs.
func NewWithEpochBits(db *bolt.DB, bits uint8) (*Bolt, error) { return newBolt(db, bits) }

// DeleteIndexKeysForTest removes the first n entries of index bucket b
// ('h' for the hash index).
func DeleteIndexKeysForTest(db *bolt.DB, b byte, n int) error {
	return db.Update(func(tx *bolt.Tx) error {
		c := root(tx).Bucket([]byte{b}).Cursor()
		for k, _ := c.First(); k != nil && n > 0; k, _ = c.First() {
			if err := c.Delete(); err != nil {
				return err
			}
			n--
		}
		return nil
	})
}

// Epochs returns the distinct index epochs of the hash index.
func Epochs(db *bolt.DB) (map[uint32]int, error) {
	out := make(map[uint32]int)
	err := db.View(func(tx *bolt.Tx) error {
		return root(tx).Bucket(bucketHash).ForEach(func(k, _ []byte) error {
			out[uint32(k[0])<<24|uint32(k[1])<<16|uint32(k[2])<<8|uint32(k[3])]++
			return nil
		})
	})
	return out, err
}
