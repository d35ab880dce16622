package mam

// tree is a Merkle tree over leaf addresses: levels[0] are the leaves,
// the last level holds the root. Parents are Curl-P-27(left || right); an
// unpaired last node is carried up unchanged.
type tree struct {
	levels [][]hash
}

// buildTree builds the tree over leaves (at least one).
func buildTree(leaves []hash) tree {
	t := tree{levels: [][]hash{leaves}}
	var buf [2 * hashTrits]int8
	for cur := leaves; len(cur) > 1; {
		next := make([]hash, 0, (len(cur)+1)/2)
		for i := 0; i < len(cur); i += 2 {
			if i+1 == len(cur) {
				next = append(next, cur[i])
				continue
			}
			copy(buf[:hashTrits], cur[i][:])
			copy(buf[hashTrits:], cur[i+1][:])
			next = append(next, hashOf(buf[:]))
		}
		t.levels = append(t.levels, next)
		cur = next
	}
	return t
}

// root returns the tree's root.
func (t tree) root() hash { return t.levels[len(t.levels)-1][0] }

// siblings returns the bottom-up authentication path of leaf i. Levels where
// the node is unpaired contribute nothing (only non power-of-two trees have
// those, and channels refuse such sizes).
func (t tree) siblings(i int) []hash {
	var out []hash
	for _, level := range t.levels[:len(t.levels)-1] {
		if j := i ^ 1; j < len(level) {
			out = append(out, level[j])
		}
		i >>= 1
	}
	return out
}

// foldPath recomputes a root from a leaf address, its tree-relative index
// and its bottom-up siblings.
func foldPath(leaf hash, index int, siblings []int8) hash {
	var buf [2 * hashTrits]int8
	a := leaf
	for k := 0; k*hashTrits < len(siblings); k++ {
		sib := siblings[k*hashTrits : (k+1)*hashTrits]
		if (index>>k)&1 == 0 {
			copy(buf[:hashTrits], a[:])
			copy(buf[hashTrits:], sib)
		} else {
			copy(buf[:hashTrits], sib)
			copy(buf[hashTrits:], a[:])
		}
		a = hashOf(buf[:])
	}
	return a
}
