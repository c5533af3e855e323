package emrest

import "seen/internal/chat"

// The vendor's numbered pages (?pagenum&pagesize) are answered by walking
// seen's cursor pages, which costs work in proportion to how deep the page
// is. These caps bound that work per request.
const (
	// maxPageRows is the deepest row a numbered page may reach:
	// pagenum*pagesize at most. Deeper pages are refused (bad_request);
	// the cursor calls reach any depth.
	maxPageRows = 10_000
	// maxGroupInfoIDs is how many groups one group-detail call may name.
	maxGroupInfoIDs = 20
)

// checkPageDepth refuses a numbered page that reaches past maxPageRows.
// pageNum counts from 1 and size is at least 1.
func checkPageDepth(numName, sizeName string, pageNum, size int) error {
	if pageNum > maxPageRows || pageNum*size > maxPageRows {
		return chat.Errorf(chat.CodeBadRequest, "%s*%s is at most %d (got %d*%d): page deeper with the cursor call", numName, sizeName, maxPageRows, pageNum, size)
	}
	return nil
}

// fetchFunc fetches up to limit rows of a cursor listing after cursor: it
// returns how many rows came and the cursor of the next page ("" on the
// last page).
type fetchFunc func(cursor string, limit int) (rows int, next string, err error)

// skipRows returns the cursor after the first skip rows of a listing,
// fetching up to chunk rows a call (the service's largest page), so that a
// deep page costs skip/chunk calls, not one call per page before it. ok
// is false when the listing ends before a row after those: the page asked
// for is past the last one. The cursor of skip 0 is "".
func skipRows(skip, chunk int, fetch fetchFunc) (cursor string, ok bool, err error) {
	for skip > 0 {
		rows, next, err := fetch(cursor, min(skip, chunk))
		if err != nil {
			return "", false, err
		}
		if next == "" || rows == 0 {
			return "", false, nil
		}
		skip -= rows
		cursor = next
	}
	return cursor, true, nil
}
