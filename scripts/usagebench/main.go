// Command usagebench prints the usage recorder's throughput on a
// 10,000-record delivery against DynamoDB Local, next to a raw
// BatchWriteItem loop writing the same items, and fails if the recorder
// reaches less than 0.8x of it. It uses $DYNAMODB_ENDPOINT if set, else
// starts its own in-memory DynamoDB Local.
//
//	go run ./scripts/usagebench [-n 10000] [-min 0.8]
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"flag"
	"fmt"
	"os"

	"github.com/acmedata/tokenservice/pkg/dynamolocal"
	"github.com/acmedata/tokenservice/pkg/schema"
	"github.com/acmedata/tokenservice/pkg/usage/usagebench"
)

func main() {
	n := flag.Int("n", 10000, "records in the delivery")
	minRatio := flag.Float64("min", 0.8, "fail below this recorder/raw throughput ratio")
	flag.Parse()
	if err := run(context.Background(), *n, *minRatio); err != nil {
		fmt.Fprintln(os.Stderr, "usagebench:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, n int, minRatio float64) error {
	endpoint, stop, err := dynamolocal.EnvOrStart(ctx, dynamolocal.Options{})
	if err != nil {
		return err
	}
	defer func() { _ = stop() }()
	client, err := dynamolocal.NewClient(ctx, endpoint)
	if err != nil {
		return err
	}
	var made []string
	defer func() { _ = dynamolocal.DeleteTables(context.Background(), client, made) }()
	newTable := func() (string, error) {
		b := make([]byte, 4)
		_, _ = rand.Read(b)
		names, err := dynamolocal.EnsureTables(ctx, client, "bench"+hex.EncodeToString(b), []schema.Table{schema.Usage})
		if err != nil {
			return "", err
		}
		made = append(made, names[schema.Usage.ID])
		return names[schema.Usage.ID], nil
	}
	res, err := usagebench.Compare(ctx, client, newTable, n)
	if err != nil {
		return err
	}
	fmt.Println(res)
	if res.Ratio() < minRatio {
		return fmt.Errorf("recorder at %.2fx of the raw loop, below %.2fx", res.Ratio(), minRatio)
	}
	return nil
}
