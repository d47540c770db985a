package engine

import "strings"

// usccAlphabet is GB 32100-2015's character set: digits and capital letters
// without I, O, Z, S, V; a character's value is its index.
const usccAlphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"

// usccWeights are the weights of positions 1–17 for the check character.
var usccWeights = [17]int{1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28}

// ValidUSCC reports whether code is an 18-character unified social credit
// code (统一社会信用代码) whose last character is the GB 32100 check character.
func ValidUSCC(code string) bool {
	if len(code) != 18 {
		return false
	}
	sum := 0
	for i := 0; i < 17; i++ {
		v := strings.IndexByte(usccAlphabet, code[i])
		if v < 0 {
			return false
		}
		sum += v * usccWeights[i]
	}
	check := (31 - sum%31) % 31
	return code[17] == usccAlphabet[check]
}
