#!/bin/sh
echo "a real attack would have run here"
